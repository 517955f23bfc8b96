// Owning handles and PEM conversions for OpenSSL objects, shared by the security sources.
// Parsing never prompts for a passphrase and never leaves an entry in the OpenSSL error queue.
#include "pganalytics/security/openssl_util.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>

#include <stdexcept>

namespace pga::security::ossl {
namespace {

// PEM inputs are keys, certificates and requests: a few KiB. The cap keeps lengths within int.
constexpr std::size_t kMaxPemBytes = 1 << 20;

// An encrypted PEM must fail to load rather than make OpenSSL ask a terminal for its passphrase.
int refuse_passphrase(char*, int, int, void*) { return -1; }

Bio read_bio(std::string_view pem) {
  if (pem.empty() || pem.size() > kMaxPemBytes) return nullptr;
  return Bio{BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()))};
}

template <typename T, typename Reader>
T parse_pem(std::string_view pem, Reader reader) {
  Bio bio = read_bio(pem);
  if (!bio) return nullptr;
  T object{reader(bio.get(), nullptr, refuse_passphrase, nullptr)};
  if (!object) discard_errors();
  return object;
}

template <typename Writer>
std::string write_pem(std::string_view what, Writer writer) {
  Bio bio{BIO_new(BIO_s_mem())};
  if (!bio || writer(bio.get()) != 1) fail(what);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

}  // namespace

void fail(std::string_view operation) {
  const unsigned long code = ERR_get_error();
  const char* reason = code != 0 ? ERR_reason_error_string(code) : nullptr;
  ERR_clear_error();
  std::string message(operation);
  if (reason != nullptr) message.append(": ").append(reason);
  throw std::runtime_error(message);
}

void discard_errors() noexcept { ERR_clear_error(); }

PKey parse_private_key(std::string_view pem) { return parse_pem<PKey>(pem, PEM_read_bio_PrivateKey); }
PKey parse_public_key(std::string_view pem) { return parse_pem<PKey>(pem, PEM_read_bio_PUBKEY); }
Cert parse_certificate(std::string_view pem) { return parse_pem<Cert>(pem, PEM_read_bio_X509); }
CertRequest parse_certificate_request(std::string_view pem) {
  return parse_pem<CertRequest>(pem, PEM_read_bio_X509_REQ);
}

std::string private_key_to_pem(EVP_PKEY* key) {
  return write_pem("writing a private key", [key](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
}

std::string public_key_to_pem(EVP_PKEY* key) {
  return write_pem("writing a public key", [key](BIO* bio) { return PEM_write_bio_PUBKEY(bio, key); });
}

std::string certificate_to_pem(X509* cert) {
  return write_pem("writing a certificate", [cert](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
}

std::string certificate_request_to_pem(X509_REQ* req) {
  return write_pem("writing a certificate request", [req](BIO* bio) { return PEM_write_bio_X509_REQ(bio, req); });
}

Name common_name(std::string_view common_name) {
  Name name{X509_NAME_new()};
  if (!name || X509_NAME_add_entry_by_NID(name.get(), NID_commonName, MBSTRING_UTF8,
                                          reinterpret_cast<const unsigned char*>(common_name.data()),
                                          static_cast<int>(common_name.size()), -1, 0) != 1)
    fail("building a subject name");
  return name;
}

const EVP_MD* signature_digest(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519") || EVP_PKEY_is_a(key, "ED448")) return nullptr;
  return EVP_sha256();
}

std::string ec_group_name(const EVP_PKEY* key) {
  char name[64];
  std::size_t length = 0;
  if (!EVP_PKEY_is_a(key, "EC") || EVP_PKEY_get_group_name(key, name, sizeof name, &length) != 1) {
    discard_errors();
    return {};
  }
  return std::string(name, length);
}

}  // namespace pga::security::ossl
