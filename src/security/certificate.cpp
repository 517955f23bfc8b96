// Key and CSR generation for the agent side, and reading certificates: fingerprint, collector
// identity, expiry, serial, and verification against our CA alone.
#include <openssl/x509_vfy.h>

#include <ctime>
#include <stdexcept>

#include "pganalytics/security/ca.hpp"
#include "pganalytics/security/openssl_util.hpp"
#include "pganalytics/security/random.hpp"

namespace pga::security {
namespace {

constexpr std::string_view kCollectorUriPrefix = "urn:uuid:";

ossl::Cert require_certificate(std::string_view pem) {
  ossl::Cert cert = ossl::parse_certificate(pem);
  if (!cert) throw std::invalid_argument("not a PEM certificate");
  return cert;
}

std::string asn1_text(const ASN1_STRING* text) {
  return std::string(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                     static_cast<std::size_t>(ASN1_STRING_length(text)));
}

// The subject's CN when there is exactly one; a second CN would let two readers disagree.
std::optional<std::string> single_common_name(const X509* cert) {
  const X509_NAME* subject = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0 || X509_NAME_get_index_by_NID(subject, NID_commonName, index) >= 0) return std::nullopt;
  return asn1_text(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
}

// The one URI among the subject alternative names; nullopt for none, several, or a repeated
// SAN extension (which X509_get_ext_d2i refuses to pick from).
std::optional<std::string> single_uri_name(const X509* cert) {
  const ossl::GeneralNames names{
      static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))};
  if (!names) return std::nullopt;
  std::optional<std::string> uri;
  for (int i = 0; i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    if (name->type != GEN_URI) continue;
    if (uri) return std::nullopt;
    uri = asn1_text(name->d.uniformResourceIdentifier);
  }
  return uri;
}

}  // namespace

std::string generate_ec_p256_private_key_pem() {
  ossl::PKey key{EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256")};
  if (!key) ossl::fail("generating an EC P-256 key");
  return ossl::private_key_to_pem(key.get());
}

std::string make_csr(std::string_view private_key_pem, std::string_view common_name) {
  const ossl::PKey key = ossl::parse_private_key(private_key_pem);
  if (!key) throw std::invalid_argument("make_csr: not a PEM private key");
  const ossl::Name subject = ossl::common_name(common_name);
  const ossl::CertRequest request{X509_REQ_new()};
  if (!request || X509_REQ_set_version(request.get(), X509_REQ_VERSION_1) != 1 ||
      X509_REQ_set_subject_name(request.get(), subject.get()) != 1 ||
      X509_REQ_set_pubkey(request.get(), key.get()) != 1 ||
      X509_REQ_sign(request.get(), key.get(), ossl::signature_digest(key.get())) <= 0)
    ossl::fail("building a certificate request");
  return ossl::certificate_request_to_pem(request.get());
}

std::string certificate_fingerprint_sha256(std::string_view certificate_pem) {
  const ossl::Cert cert = require_certificate(certificate_pem);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert.get(), EVP_sha256(), digest, &length) != 1) ossl::fail("fingerprinting a certificate");
  return "sha256:" + hex(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::optional<std::string> certificate_collector_id(const X509* certificate) {
  auto id = single_common_name(certificate);
  if (!id || !is_lowercase_uuid(*id)) return std::nullopt;
  if (single_uri_name(certificate) != std::string(kCollectorUriPrefix) + *id) return std::nullopt;
  return id;
}

std::optional<std::string> certificate_collector_id(std::string_view certificate_pem) {
  const ossl::Cert cert = ossl::parse_certificate(certificate_pem);
  return cert ? certificate_collector_id(cert.get()) : std::nullopt;
}

namespace {
std::int64_t unix_time(const ASN1_TIME* time, const char* what) {
  std::tm moment{};
  if (ASN1_TIME_to_tm(time, &moment) != 1) ossl::fail(what);
  return static_cast<std::int64_t>(timegm(&moment));
}
}  // namespace

std::int64_t certificate_not_after(std::string_view certificate_pem) {
  const ossl::Cert cert = require_certificate(certificate_pem);
  return unix_time(X509_get0_notAfter(cert.get()), "reading notAfter");
}

std::int64_t certificate_not_before(std::string_view certificate_pem) {
  const ossl::Cert cert = require_certificate(certificate_pem);
  return unix_time(X509_get0_notBefore(cert.get()), "reading notBefore");
}

std::string certificate_serial_hex(std::string_view certificate_pem) {
  const ossl::Cert cert = require_certificate(certificate_pem);
  const ossl::Bignum serial{ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr)};
  if (!serial) ossl::fail("reading the serial number");
  std::string magnitude(static_cast<std::size_t>(BN_num_bytes(serial.get())), '\0');
  BN_bn2bin(serial.get(), reinterpret_cast<unsigned char*>(magnitude.data()));
  return (BN_is_negative(serial.get()) ? "-" : "") + hex(magnitude);
}

bool verify_certificate_against_ca(std::string_view certificate_pem, std::string_view ca_pem) {
  const ossl::Cert cert = ossl::parse_certificate(certificate_pem);
  const ossl::Cert ca = ossl::parse_certificate(ca_pem);
  if (!cert || !ca) return false;
  const ossl::Store store{X509_STORE_new()};
  const ossl::StoreCtx context{X509_STORE_CTX_new()};
  if (!store || !context || X509_STORE_add_cert(store.get(), ca.get()) != 1 ||
      X509_STORE_CTX_init(context.get(), store.get(), cert.get(), nullptr) != 1)
    ossl::fail("preparing certificate verification");
  X509_STORE_CTX_set_flags(context.get(), X509_V_FLAG_X509_STRICT);
  const bool trusted = X509_verify_cert(context.get()) == 1;
  if (!trusted) ossl::discard_errors();
  return trusted;
}

bool is_lowercase_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool dash_position = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash_position ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace pga::security
