// The server's internal certificate authority: creating it, issuing the server's certificate and
// turning agents' CSRs into client certificates whose every name and extension the CA chooses.
#include "pganalytics/security/ca.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "pganalytics/security/openssl_util.hpp"
#include "pganalytics/security/random.hpp"

namespace pga::security {
namespace {

constexpr std::size_t kMaxCsrBytes = 16 * 1024;
// Certificates start five minutes in the past so a peer whose clock lags still accepts them.
constexpr long kBackdateSeconds = 5 * 60;

using GeneralName = ossl::Handle<GENERAL_NAME, GENERAL_NAME_free>;
using Ia5String = ossl::Handle<ASN1_IA5STRING, ASN1_IA5STRING_free>;
using OctetString = ossl::Handle<ASN1_OCTET_STRING, ASN1_OCTET_STRING_free>;

// 16 random bytes with the top bit cleared (DER integers are signed, serials must be positive)
// and the next bit set, so the serial is never zero and always encodes as exactly 16 bytes.
void set_random_serial(X509* cert) {
  std::string bytes = random_bytes(16);
  bytes[0] = static_cast<char>((static_cast<unsigned char>(bytes[0]) & 0x3F) | 0x40);
  ossl::Bignum number{BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), 16, nullptr)};
  ossl::Asn1Integer serial{number ? BN_to_ASN1_INTEGER(number.get(), nullptr) : nullptr};
  if (!serial || X509_set_serialNumber(cert, serial.get()) != 1) ossl::fail("setting a serial number");
}

// What every certificate we issue shares: v3, random serial, subject CN, key, validity.
ossl::Cert certificate_for(std::string_view common_name, EVP_PKEY* subject_key, std::chrono::seconds lifetime) {
  if (lifetime.count() <= 0) throw std::invalid_argument("a certificate lifetime must be positive");
  ossl::Cert cert{X509_new()};
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) ossl::fail("creating a certificate");
  set_random_serial(cert.get());
  const ossl::Name subject = ossl::common_name(common_name);
  if (X509_set_subject_name(cert.get(), subject.get()) != 1 || X509_set_pubkey(cert.get(), subject_key) != 1 ||
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -kBackdateSeconds) == nullptr ||
      X509_gmtime_adj(X509_getm_notAfter(cert.get()), static_cast<long>(lifetime.count())) == nullptr)
    ossl::fail("filling in a certificate");
  return cert;
}

// Names the issuer and cuts the validity at the issuer's own end: nothing outlives its CA.
void set_issuer(X509* cert, X509* issuer) {
  if (X509_set_issuer_name(cert, X509_get_subject_name(issuer)) != 1) ossl::fail("setting the issuer");
  const ASN1_TIME* issuer_end = X509_get0_notAfter(issuer);
  if (ASN1_TIME_compare(X509_get0_notAfter(cert), issuer_end) > 0 && X509_set1_notAfter(cert, issuer_end) != 1)
    ossl::fail("limiting the validity");
}

void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  const ossl::Extension extension{X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value)};
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) ossl::fail("adding a certificate extension");
}

// Key identifiers: X509_V_FLAG_X509_STRICT verifiers and chain building rely on them.
void add_key_identifiers(X509* cert, X509* issuer) {
  add_extension(cert, issuer, NID_subject_key_identifier, "hash");
  add_extension(cert, issuer, NID_authority_key_identifier, "keyid:always");
}

void add_end_entity_extensions(X509* cert, X509* issuer, const char* extended_key_usage) {
  add_extension(cert, issuer, NID_basic_constraints, "critical,CA:FALSE");
  add_extension(cert, issuer, NID_key_usage, "critical,digitalSignature");
  add_extension(cert, issuer, NID_ext_key_usage, extended_key_usage);
  add_key_identifiers(cert, issuer);
}

void sign_certificate(X509* cert, EVP_PKEY* key) {
  if (X509_sign(cert, key, ossl::signature_digest(key)) <= 0) ossl::fail("signing a certificate");
}

void append_name(GENERAL_NAMES* names, int type, void* value) {
  GeneralName name{GENERAL_NAME_new()};
  if (!name) ossl::fail("allocating a subject alternative name");
  GENERAL_NAME_set0_value(name.get(), type, value);
  if (sk_GENERAL_NAME_push(names, name.get()) <= 0) ossl::fail("adding a subject alternative name");
  name.release();  // owned by names now
}

// Builds names from values, never from "DNS:a,IP:b" text: a comma in a value cannot add a name.
void append_text_name(GENERAL_NAMES* names, int type, std::string_view text) {
  Ia5String value{ASN1_IA5STRING_new()};
  if (!value || ASN1_STRING_set(value.get(), text.data(), static_cast<int>(text.size())) != 1)
    ossl::fail("encoding a subject alternative name");
  append_name(names, type, value.get());
  value.release();
}

// An IPv4 or IPv6 address as its 4 or 16 network-order bytes; nullopt for anything else.
std::optional<std::string> ip_address_bytes(const std::string& text) {
  unsigned char buffer[16];
  if (inet_pton(AF_INET, text.c_str(), buffer) == 1) return std::string(reinterpret_cast<char*>(buffer), 4);
  if (inet_pton(AF_INET6, text.c_str(), buffer) == 1) return std::string(reinterpret_cast<char*>(buffer), 16);
  return std::nullopt;
}

void append_ip_name(GENERAL_NAMES* names, std::string_view address) {
  OctetString value{ASN1_OCTET_STRING_new()};
  if (!value || ASN1_OCTET_STRING_set(value.get(), reinterpret_cast<const unsigned char*>(address.data()),
                                      static_cast<int>(address.size())) != 1)
    ossl::fail("encoding an IP subject alternative name");
  append_name(names, GEN_IPADD, value.get());
  value.release();
}

// RFC 1123 host names: dot-separated labels of 1–63 letters, digits and inner hyphens.
bool valid_dns_name(std::string_view name) {
  if (name.empty() || name.size() > 253) return false;
  std::size_t start = 0;
  while (start <= name.size()) {
    const std::size_t end = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, end - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-') return false;
    for (char c : label)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
    start = end + 1;
  }
  return true;
}

ossl::GeneralNames new_general_names() {
  ossl::GeneralNames names{GENERAL_NAMES_new()};
  if (!names) ossl::fail("allocating subject alternative names");
  return names;
}

void attach_subject_alt_names(X509* cert, GENERAL_NAMES* names) {
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, names, 0, X509V3_ADD_DEFAULT) != 1)
    ossl::fail("adding subject alternative names");
}

void add_host_names(X509* cert, const std::vector<std::string>& hostnames) {
  const ossl::GeneralNames names = new_general_names();
  for (const std::string& host : hostnames) {
    if (const auto address = ip_address_bytes(host)) {
      append_ip_name(names.get(), *address);
    } else if (valid_dns_name(host)) {
      append_text_name(names.get(), GEN_DNS, host);
    } else {
      throw std::invalid_argument("'" + host + "' is neither an IP address nor a valid DNS name");
    }
  }
  attach_subject_alt_names(cert, names.get());
}

void add_collector_uri(X509* cert, std::string_view collector_id) {
  const ossl::GeneralNames names = new_general_names();
  append_text_name(names.get(), GEN_URI, "urn:uuid:" + std::string(collector_id));
  attach_subject_alt_names(cert, names.get());
}

// Keys an agent may enrol with: what `register` makes (P-256, Ed25519) and other sound choices.
bool acceptable_client_key(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return true;
  if (EVP_PKEY_is_a(key, "RSA")) return EVP_PKEY_get_bits(key) >= 2048;
  const std::string group = ossl::ec_group_name(key);
  return group == "prime256v1" || group == "secp384r1";
}

std::shared_ptr<X509> share(ossl::Cert cert) { return {cert.release(), X509_free}; }
std::shared_ptr<EVP_PKEY> share(ossl::PKey key) { return {key.release(), EVP_PKEY_free}; }

}  // namespace

std::string_view to_string(CsrError error) {
  switch (error) {
    case CsrError::Malformed: return "malformed certificate request";
    case CsrError::UnsupportedKey: return "unsupported key in certificate request";
    case CsrError::BadSignature: return "certificate request signature does not verify";
  }
  return "unknown error";
}

void throw_exception_from_error(CsrError error, const boost::source_location&) {
  throw std::runtime_error("CSR refused: " + std::string(to_string(error)));
}

CertificateAuthority::CertificateAuthority(std::shared_ptr<X509> certificate, std::shared_ptr<EVP_PKEY> key)
    : certificate_(std::move(certificate)),
      key_(std::move(key)),
      certificate_pem_(ossl::certificate_to_pem(certificate_.get())) {}

CertificateAuthority CertificateAuthority::create(std::string_view common_name, std::chrono::seconds lifetime) {
  ossl::PKey key = ossl::parse_private_key(generate_ec_p256_private_key_pem());
  ossl::Cert cert = certificate_for(common_name, key.get(), lifetime);
  X509* self = cert.get();
  set_issuer(self, self);
  add_extension(self, self, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
  add_extension(self, self, NID_key_usage, "critical,keyCertSign,cRLSign");
  add_key_identifiers(self, self);
  sign_certificate(self, key.get());
  return CertificateAuthority(share(std::move(cert)), share(std::move(key)));
}

bool key_matches_certificate(std::string_view private_key_pem, std::string_view certificate_pem) {
  ossl::Cert cert = ossl::parse_certificate(certificate_pem);
  ossl::PKey key = ossl::parse_private_key(private_key_pem);
  const bool matches = cert && key && X509_check_private_key(cert.get(), key.get()) == 1;
  ossl::discard_errors();
  return matches;
}

CertificateAuthority CertificateAuthority::load(std::string_view certificate_pem, std::string_view private_key_pem) {
  ossl::Cert cert = ossl::parse_certificate(certificate_pem);
  ossl::PKey key = ossl::parse_private_key(private_key_pem);
  if (!cert || !key) throw std::invalid_argument("the CA certificate or key is not valid PEM");
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ossl::discard_errors();
    throw std::invalid_argument("the CA key does not belong to the CA certificate");
  }
  if (X509_check_ca(cert.get()) != 1) throw std::invalid_argument("the CA certificate is not a CA certificate");
  return CertificateAuthority(share(std::move(cert)), share(std::move(key)));
}

std::string CertificateAuthority::private_key_pem() const { return ossl::private_key_to_pem(key_.get()); }

std::string CertificateAuthority::issue_server_certificate(const std::vector<std::string>& hostnames,
                                                           std::string_view server_key_pem,
                                                           std::chrono::seconds lifetime) const {
  if (hostnames.empty()) throw std::invalid_argument("a server certificate needs at least one hostname");
  const ossl::PKey server_key = ossl::parse_private_key(server_key_pem);
  if (!server_key) throw std::invalid_argument("the server key is not a PEM private key");
  const ossl::Cert cert = certificate_for(hostnames.front(), server_key.get(), lifetime);
  set_issuer(cert.get(), certificate_.get());
  add_end_entity_extensions(cert.get(), certificate_.get(), "serverAuth");
  add_host_names(cert.get(), hostnames);
  sign_certificate(cert.get(), key_.get());
  return ossl::certificate_to_pem(cert.get());
}

boost::system::result<std::string, CsrError> CertificateAuthority::sign_client_csr(
    std::string_view csr_pem, std::string_view collector_id, std::chrono::seconds lifetime) const {
  if (!is_lowercase_uuid(collector_id)) throw std::invalid_argument("a collector id must be a lowercase UUID");
  if (csr_pem.size() > kMaxCsrBytes) return CsrError::Malformed;
  const ossl::CertRequest request = ossl::parse_certificate_request(csr_pem);
  EVP_PKEY* key = request ? X509_REQ_get0_pubkey(request.get()) : nullptr;
  if (key == nullptr) {
    ossl::discard_errors();
    return CsrError::Malformed;
  }
  if (!acceptable_client_key(key)) return CsrError::UnsupportedKey;
  if (X509_REQ_verify(request.get(), key) != 1) {
    ossl::discard_errors();
    return CsrError::BadSignature;
  }
  const ossl::Cert cert = certificate_for(collector_id, key, lifetime);
  set_issuer(cert.get(), certificate_.get());
  add_end_entity_extensions(cert.get(), certificate_.get(), "clientAuth");
  add_collector_uri(cert.get(), collector_id);
  sign_certificate(cert.get(), key_.get());
  return ossl::certificate_to_pem(cert.get());
}

}  // namespace pga::security
