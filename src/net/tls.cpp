// Builds the TLS contexts from PEM text and reads the verified peer identity: the only file in
// src/net that talks to OpenSSL directly.
#include "pganalytics/net/tls.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <stdexcept>
#include <vector>

namespace pga::net {
namespace ssl = boost::asio::ssl;

namespace {

// Required when the server verifies clients, or OpenSSL refuses to resume their sessions.
constexpr unsigned char kSessionIdContext[] = "pganalytics";

struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

[[noreturn]] void fail(std::string_view what, const std::exception& cause) {
  throw std::runtime_error(std::string(what) + ": " + cause.what());
}

void tls13_only(ssl::context& ctx) {
  if (SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_3_VERSION) != 1 ||
      SSL_CTX_set_max_proto_version(ctx.native_handle(), TLS1_3_VERSION) != 1)
    throw std::runtime_error("TLS 1.3 is not available in this OpenSSL");
}

void use_identity(ssl::context& ctx, std::string_view cert_chain_pem, std::string_view key_pem, std::string_view who) {
  try {
    ctx.use_certificate_chain(boost::asio::buffer(cert_chain_pem));
  } catch (const std::exception& e) {
    fail(std::string(who) + " certificate", e);
  }
  try {
    ctx.use_private_key(boost::asio::buffer(key_pem), ssl::context::pem);
  } catch (const std::exception& e) {
    fail(std::string(who) + " private key", e);
  }
  if (SSL_CTX_check_private_key(ctx.native_handle()) != 1)
    throw std::runtime_error(std::string(who) + " private key does not match its certificate");
}

// Trusts every certificate in `ca_pem`; `advertise` also names them to clients as acceptable
// issuers so a client holding several certificates can pick the right one.
void trust(ssl::context& ctx, std::string_view ca_pem, bool advertise) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(ca_pem.data(), static_cast<int>(ca_pem.size())),
                                                &BIO_free);
  if (!bio) throw std::bad_alloc();
  X509_STORE* store = SSL_CTX_get_cert_store(ctx.native_handle());
  int count = 0;
  while (X509Ptr cert{PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)}) {
    if (X509_STORE_add_cert(store, cert.get()) != 1 ||
        (advertise && SSL_CTX_add_client_CA(ctx.native_handle(), cert.get()) != 1))
      throw std::runtime_error("cannot add CA certificate");
    ++count;
  }
  ERR_clear_error();  // the loop ends on PEM's "no start line"
  if (count == 0) throw std::runtime_error("no CA certificate found in PEM text");
}

std::optional<std::string> common_name(X509* cert) {
  X509_NAME* subject = X509_get_subject_name(cert);
  int index = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (index < 0) return std::nullopt;
  unsigned char* utf8 = nullptr;
  int length = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, index)));
  if (length < 0) return std::nullopt;
  std::string cn(reinterpret_cast<char*>(utf8), static_cast<std::size_t>(length));
  OPENSSL_free(utf8);
  if (cn.find('\0') != std::string::npos) return std::nullopt;  // "a\0b" would pass for "a"
  return cn;
}

// OpenSSL's own check lets a certificate without any extended key usage through.
bool for_client_authentication(X509* cert) {
  return (X509_get_extension_flags(cert) & EXFLAG_XKUSAGE) != 0 &&
         (X509_get_extended_key_usage(cert) & XKU_SSL_CLIENT) != 0;
}

std::vector<std::string> uri_names(X509* cert) {
  std::vector<std::string> uris;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  if (!names) return uris;
  for (int i = 0; i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type != GEN_URI) continue;
    const ASN1_IA5STRING* uri = name->d.uniformResourceIdentifier;
    uris.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(uri)), static_cast<std::size_t>(ASN1_STRING_length(uri)));
  }
  GENERAL_NAMES_free(names);
  return uris;
}

}  // namespace

ssl::context make_server_tls_context(std::string_view cert_chain_pem, std::string_view key_pem,
                                     std::string_view client_ca_pem) {
  ssl::context ctx(ssl::context::tls_server);
  tls13_only(ctx);
  ctx.set_options(ssl::context::no_compression);
  use_identity(ctx, cert_chain_pem, key_pem, "server");
  if (!client_ca_pem.empty()) {
    trust(ctx, client_ca_pem, true);
    ctx.set_verify_mode(ssl::verify_peer);  // not verify_fail_if_no_peer_cert: routes decide
    SSL_CTX_set_session_id_context(ctx.native_handle(), kSessionIdContext, sizeof kSessionIdContext - 1);
  }
  return ctx;
}

ssl::context make_client_tls_context(std::string_view ca_pem, std::string_view client_cert_pem,
                                     std::string_view client_key_pem) {
  if (ca_pem.empty()) throw std::invalid_argument("the client needs the CA that signed the server certificate");
  ssl::context ctx(ssl::context::tls_client);
  tls13_only(ctx);
  trust(ctx, ca_pem, false);
  ctx.set_verify_mode(ssl::verify_peer);
  if (!client_cert_pem.empty()) use_identity(ctx, client_cert_pem, client_key_pem, "client");
  return ctx;
}

std::optional<std::string> verified_client_identity(SSL* ssl) {
  X509Ptr cert{SSL_get1_peer_certificate(ssl)};
  if (!cert || SSL_get_verify_result(ssl) != X509_V_OK) return std::nullopt;
  if (!for_client_authentication(cert.get())) return std::nullopt;
  auto cn = common_name(cert.get());
  if (!cn || uri_names(cert.get()) != std::vector<std::string>{"urn:uuid:" + *cn}) return std::nullopt;
  return cn;
}

}  // namespace pga::net
