// The internal CA: its own certificate, the server certificate's names, and client certificates
// whose names and extensions come from the CA alone, whatever the CSR asks for.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <regex>
#include <stdexcept>

#include "pganalytics/security/ca.hpp"
#include "pganalytics/security/openssl_util.hpp"
#include "pganalytics/security/random.hpp"

using namespace pga::security;
namespace ossl = pga::security::ossl;
using namespace std::chrono_literals;

namespace {

constexpr std::string_view kCollector = "0f8c2d1e-5b7a-4c3d-9e8f-123456789abc";

ossl::Cert parsed(std::string_view pem) {
  ossl::Cert cert = ossl::parse_certificate(pem);
  REQUIRE(cert);
  return cert;
}

template <typename T>
struct Decoded {
  T* value;
  int critical;
};

// An extension decoded with its criticality; the caller frees the value with its type's free.
template <typename T>
Decoded<T> extension(const X509* cert, int nid) {
  int critical = -1;
  return {static_cast<T*>(X509_get_ext_d2i(cert, nid, &critical, nullptr)), critical};
}

// The SAN entries as "DNS:name", "URI:uri" or "IP:<hex bytes>".
std::vector<std::string> alt_names(const X509* cert) {
  const ossl::GeneralNames names{extension<GENERAL_NAMES>(cert, NID_subject_alt_name).value};
  std::vector<std::string> out;
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names.get(), i);
    const ASN1_STRING* value = name->d.ia5;
    const std::string text(reinterpret_cast<const char*>(ASN1_STRING_get0_data(value)),
                           static_cast<std::size_t>(ASN1_STRING_length(value)));
    switch (name->type) {
      case GEN_DNS: out.push_back("DNS:" + text); break;
      case GEN_URI: out.push_back("URI:" + text); break;
      case GEN_IPADD: out.push_back("IP:" + hex(text)); break;
      default: out.push_back("other"); break;
    }
  }
  return out;
}

std::string common_name(const X509* cert) {
  char buffer[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, buffer, sizeof buffer);
  return buffer;
}

// Returns {is CA, critical}.
std::pair<bool, int> basic_constraints(const X509* cert) {
  const auto decoded = extension<BASIC_CONSTRAINTS>(cert, NID_basic_constraints);
  REQUIRE(decoded.value != nullptr);
  const bool ca = decoded.value->ca != 0;
  BASIC_CONSTRAINTS_free(decoded.value);
  return {ca, decoded.critical};
}

std::int64_t unix_now() { return static_cast<std::int64_t>(std::time(nullptr)); }

std::int64_t not_before(const X509* cert) {
  std::tm moment{};
  REQUIRE(ASN1_TIME_to_tm(X509_get0_notBefore(cert), &moment) == 1);
  return static_cast<std::int64_t>(timegm(&moment));
}

void add_request_extension(STACK_OF(X509_EXTENSION) * extensions, X509_REQ* request, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, nullptr, nullptr, request, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value);
  REQUIRE(ext != nullptr);
  sk_X509_EXTENSION_push(extensions, ext);
}

// A CSR asking for everything a hostile agent would like: CA:TRUE, extra names, serverAuth.
std::string greedy_csr(std::string_view key_pem) {
  const ossl::PKey key = ossl::parse_private_key(key_pem);
  const ossl::CertRequest request{X509_REQ_new()};
  const ossl::Name subject = ossl::common_name("evil.example");
  REQUIRE(X509_REQ_set_subject_name(request.get(), subject.get()) == 1);
  REQUIRE(X509_REQ_set_pubkey(request.get(), key.get()) == 1);
  STACK_OF(X509_EXTENSION)* extensions = sk_X509_EXTENSION_new_null();
  add_request_extension(extensions, request.get(), NID_basic_constraints, "critical,CA:TRUE");
  add_request_extension(extensions, request.get(), NID_subject_alt_name,
                        "DNS:evil.example,URI:urn:uuid:11111111-2222-4333-8444-555555555555,IP:10.0.0.1");
  add_request_extension(extensions, request.get(), NID_ext_key_usage, "serverAuth,codeSigning");
  add_request_extension(extensions, request.get(), NID_key_usage, "keyCertSign");
  REQUIRE(X509_REQ_add_extensions(request.get(), extensions) == 1);
  sk_X509_EXTENSION_pop_free(extensions, X509_EXTENSION_free);
  REQUIRE(X509_REQ_sign(request.get(), key.get(), EVP_sha256()) > 0);
  return ossl::certificate_request_to_pem(request.get());
}

// The PEM of `pem` with `from` replaced by `to` inside its DER: same length, signature untouched.
std::string tampered_pem(std::string_view pem, std::string_view from, std::string_view to) {
  const ossl::CertRequest request = ossl::parse_certificate_request(pem);
  REQUIRE(request);
  unsigned char* der = nullptr;
  const int length = i2d_X509_REQ(request.get(), &der);
  REQUIRE(length > 0);
  std::string bytes(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
  OPENSSL_free(der);
  const std::size_t at = bytes.find(from);
  REQUIRE(at != std::string::npos);
  bytes.replace(at, from.size(), to);
  const unsigned char* cursor = reinterpret_cast<const unsigned char*>(bytes.data());
  const ossl::CertRequest changed{d2i_X509_REQ(nullptr, &cursor, length)};
  REQUIRE(changed);
  return ossl::certificate_request_to_pem(changed.get());
}

// A self-signed certificate with the given CN and SAN text, for identity-extraction cases the CA
// itself would never produce.
std::string self_signed(std::string_view cn, const char* san) {
  const ossl::PKey key = ossl::parse_private_key(generate_ec_p256_private_key_pem());
  const ossl::Cert cert{X509_new()};
  const ossl::Name name = ossl::common_name(cn);
  REQUIRE(X509_set_version(cert.get(), X509_VERSION_3) == 1);
  REQUIRE(X509_set_subject_name(cert.get(), name.get()) == 1);
  REQUIRE(X509_set_issuer_name(cert.get(), name.get()) == 1);
  REQUIRE(X509_set_pubkey(cert.get(), key.get()) == 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 3600);
  if (san != nullptr) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
    const ossl::Extension ext{X509V3_EXT_nconf_nid(nullptr, &ctx, NID_subject_alt_name, san)};
    REQUIRE(ext);
    REQUIRE(X509_add_ext(cert.get(), ext.get(), -1) == 1);
  }
  REQUIRE(X509_sign(cert.get(), key.get(), EVP_sha256()) > 0);
  return ossl::certificate_to_pem(cert.get());
}

const CertificateAuthority& test_ca() {
  static const CertificateAuthority ca = CertificateAuthority::create("pganalytics test CA", 24h * 3650);
  return ca;
}

}  // namespace

TEST_CASE("the CA certificate is a critical, path-limited CA") {
  const ossl::Cert cert = parsed(test_ca().certificate_pem());
  CHECK(X509_check_ca(cert.get()) == 1);
  CHECK(common_name(cert.get()) == "pganalytics test CA");
  const auto constraints = extension<BASIC_CONSTRAINTS>(cert.get(), NID_basic_constraints);
  REQUIRE(constraints.value != nullptr);
  CHECK(constraints.value->ca != 0);
  CHECK(constraints.critical == 1);
  CHECK(ASN1_INTEGER_get(constraints.value->pathlen) == 0);
  BASIC_CONSTRAINTS_free(constraints.value);
  CHECK((X509_get_key_usage(cert.get()) & (KU_KEY_CERT_SIGN | KU_CRL_SIGN)) == (KU_KEY_CERT_SIGN | KU_CRL_SIGN));
  CHECK(X509_get0_subject_key_id(cert.get()) != nullptr);
  CHECK(verify_certificate_against_ca(test_ca().certificate_pem(), test_ca().certificate_pem()));
}

TEST_CASE("the server certificate carries DNS and IP names and verifies against the CA") {
  const std::string key = generate_ec_p256_private_key_pem();
  const std::string pem =
      test_ca().issue_server_certificate({"localhost", "db.example.com", "127.0.0.1", "::1"}, key, 24h * 90);
  const ossl::Cert cert = parsed(pem);
  CHECK(verify_certificate_against_ca(pem, test_ca().certificate_pem()));
  CHECK(alt_names(cert.get()) == std::vector<std::string>{"DNS:localhost", "DNS:db.example.com", "IP:7f000001",
                                                          "IP:00000000000000000000000000000001"});
  CHECK(common_name(cert.get()) == "localhost");
  CHECK(basic_constraints(cert.get()) == std::pair<bool, int>{false, 1});
  CHECK(X509_get_extended_key_usage(cert.get()) == XKU_SSL_SERVER);
  CHECK(X509_check_private_key(cert.get(), ossl::parse_private_key(key).get()) == 1);
  CHECK_FALSE(certificate_collector_id(pem));

  const CertificateAuthority other = CertificateAuthority::create("another CA", 24h);
  CHECK_FALSE(verify_certificate_against_ca(pem, other.certificate_pem()));
  CHECK_FALSE(verify_certificate_against_ca("garbage", test_ca().certificate_pem()));
}

TEST_CASE("server hostnames are validated") {
  const std::string key = generate_ec_p256_private_key_pem();
  CHECK_THROWS_AS(test_ca().issue_server_certificate({}, key, 24h), std::invalid_argument);
  for (const char* bad : {"", "bad host", "-leading.example", "a..b", "trailing.", "x,DNS:evil.example", "é.example"})
    CHECK_THROWS_AS(test_ca().issue_server_certificate({"localhost", bad}, key, 24h), std::invalid_argument);
  CHECK_THROWS_AS(test_ca().issue_server_certificate({"localhost"}, "not a key", 24h), std::invalid_argument);
}

TEST_CASE("a CSR asking for CA:TRUE and extra names gets neither") {
  const std::string agent_key = generate_ec_p256_private_key_pem();
  const auto signed_pem = test_ca().sign_client_csr(greedy_csr(agent_key), kCollector, 24h * 30);
  REQUIRE(signed_pem.has_value());
  const ossl::Cert cert = parsed(*signed_pem);

  CHECK(common_name(cert.get()) == kCollector);
  CHECK(X509_NAME_entry_count(X509_get_subject_name(cert.get())) == 1);
  CHECK(alt_names(cert.get()) == std::vector<std::string>{"URI:urn:uuid:" + std::string(kCollector)});
  CHECK(basic_constraints(cert.get()) == std::pair<bool, int>{false, 1});
  CHECK(X509_check_ca(cert.get()) == 0);
  CHECK(X509_get_key_usage(cert.get()) == KU_DIGITAL_SIGNATURE);
  CHECK(X509_get_extended_key_usage(cert.get()) == XKU_SSL_CLIENT);
  CHECK(X509_get_ext_count(cert.get()) == 6);  // the six the CA chose, none of the four requested
  CHECK(X509_get0_authority_key_id(cert.get()) != nullptr);
  CHECK(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(cert.get()),
                              X509_get0_subject_key_id(parsed(test_ca().certificate_pem()).get())) == 0);
  CHECK(X509_check_private_key(cert.get(), ossl::parse_private_key(agent_key).get()) == 1);

  CHECK(verify_certificate_against_ca(*signed_pem, test_ca().certificate_pem()));
  CHECK(certificate_collector_id(*signed_pem) == std::string(kCollector));
  CHECK(certificate_collector_id(cert.get()) == std::string(kCollector));

  const std::int64_t now = unix_now();
  CHECK(std::abs(not_before(cert.get()) - (now - 300)) <= 5);
  CHECK(std::abs(certificate_not_after(*signed_pem) - (now + 30 * 86400)) <= 5);
  const std::string serial = certificate_serial_hex(*signed_pem);
  CHECK(serial.size() == 32);
  CHECK(std::regex_match(serial, std::regex("[4-7][0-9a-f]{31}")));
  CHECK(serial != certificate_serial_hex(*test_ca().sign_client_csr(make_csr(agent_key, "h"), kCollector, 24h)));
}

TEST_CASE("bad CSRs are refused with a reason") {
  const std::string key = generate_ec_p256_private_key_pem();
  const std::string csr = make_csr(key, "tamper-me");
  REQUIRE(test_ca().sign_client_csr(csr, kCollector, 24h).has_value());
  CHECK(test_ca().sign_client_csr(tampered_pem(csr, "tamper-me", "tamper-ME"), kCollector, 24h).error() ==
        CsrError::BadSignature);
  CHECK(test_ca().sign_client_csr("", kCollector, 24h).error() == CsrError::Malformed);
  CHECK(test_ca().sign_client_csr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                                  kCollector, 24h)
            .error() == CsrError::Malformed);
  CHECK(test_ca().sign_client_csr(test_ca().certificate_pem(), kCollector, 24h).error() == CsrError::Malformed);
  CHECK(test_ca().sign_client_csr(csr + std::string(20000, '\n'), kCollector, 24h).error() == CsrError::Malformed);

  const ossl::PKey weak{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(1024))};
  REQUIRE(weak);
  const std::string weak_csr = make_csr(ossl::private_key_to_pem(weak.get()), "weak");
  CHECK(test_ca().sign_client_csr(weak_csr, kCollector, 24h).error() == CsrError::UnsupportedKey);
  CHECK_THROWS_WITH_AS(test_ca().sign_client_csr(weak_csr, kCollector, 24h).value(),
                       "CSR refused: unsupported key in certificate request", std::runtime_error);

  CHECK_THROWS_AS(test_ca().sign_client_csr(csr, "0F8C2D1E-5B7A-4C3D-9E8F-123456789ABC", 24h), std::invalid_argument);
  CHECK_THROWS_AS(test_ca().sign_client_csr(csr, "collector-1", 24h), std::invalid_argument);
}

TEST_CASE("Ed25519 agent keys are accepted") {
  const ossl::PKey ed{EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")};
  const auto pem = test_ca().sign_client_csr(make_csr(ossl::private_key_to_pem(ed.get()), "host"), kCollector, 24h);
  REQUIRE(pem.has_value());
  CHECK(verify_certificate_against_ca(*pem, test_ca().certificate_pem()));
}

TEST_CASE("no certificate outlives its CA") {
  const CertificateAuthority short_lived = CertificateAuthority::create("short", 1h);
  const auto pem = short_lived.sign_client_csr(make_csr(generate_ec_p256_private_key_pem(), "h"), kCollector, 24h * 30);
  REQUIRE(pem.has_value());
  CHECK(certificate_not_after(*pem) == certificate_not_after(short_lived.certificate_pem()));
}

TEST_CASE("a CA reloads from its PEMs and refuses mismatched ones") {
  const CertificateAuthority reloaded =
      CertificateAuthority::load(test_ca().certificate_pem(), test_ca().private_key_pem());
  CHECK(reloaded.certificate_pem() == test_ca().certificate_pem());
  const auto pem = reloaded.sign_client_csr(make_csr(generate_ec_p256_private_key_pem(), "h"), kCollector, 24h);
  REQUIRE(pem.has_value());
  CHECK(verify_certificate_against_ca(*pem, test_ca().certificate_pem()));

  CHECK_THROWS_AS(CertificateAuthority::load(test_ca().certificate_pem(), generate_ec_p256_private_key_pem()),
                  std::invalid_argument);
  const std::string server_key = generate_ec_p256_private_key_pem();
  const std::string server = test_ca().issue_server_certificate({"localhost"}, server_key, 24h);
  CHECK_THROWS_AS(CertificateAuthority::load(server, server_key), std::invalid_argument);
  CHECK_THROWS_AS(CertificateAuthority::load("x", "y"), std::invalid_argument);
}

TEST_CASE("the collector id needs CN and SAN URI to agree") {
  const std::string id(kCollector);
  CHECK(certificate_collector_id(self_signed(id, ("URI:urn:uuid:" + id).c_str())) == id);
  CHECK_FALSE(certificate_collector_id(self_signed(id, "URI:urn:uuid:11111111-2222-4333-8444-555555555555")));
  CHECK_FALSE(certificate_collector_id(self_signed(id, nullptr)));
  CHECK_FALSE(certificate_collector_id(self_signed(id, ("URI:urn:uuid:" + id + ",URI:urn:uuid:" + id).c_str())));
  CHECK_FALSE(certificate_collector_id(self_signed(id, ("URI:urn:uuid:" + id + "x").c_str())));
  CHECK_FALSE(certificate_collector_id(self_signed("not-a-uuid", "URI:urn:uuid:not-a-uuid")));
  CHECK_FALSE(certificate_collector_id(std::string_view("garbage")));
}

TEST_CASE("fingerprints are sha256 of the DER in lowercase hex") {
  const std::string& pem = test_ca().certificate_pem();
  const std::string fingerprint = certificate_fingerprint_sha256(pem);
  CHECK(std::regex_match(fingerprint, std::regex("sha256:[0-9a-f]{64}")));
  const ossl::Cert cert = parsed(pem);
  unsigned char* der = nullptr;
  const int length = i2d_X509(cert.get(), &der);
  REQUIRE(length > 0);
  const std::string expected = "sha256:" + hex(token_hash(std::string_view(reinterpret_cast<char*>(der), length)));
  OPENSSL_free(der);
  CHECK(fingerprint == expected);
  CHECK(fingerprint != certificate_fingerprint_sha256(CertificateAuthority::create("x", 24h).certificate_pem()));
  CHECK_THROWS_AS(certificate_fingerprint_sha256("garbage"), std::invalid_argument);
}

TEST_CASE("uuids are recognised in their canonical lowercase form only") {
  CHECK(is_lowercase_uuid(kCollector));
  CHECK_FALSE(is_lowercase_uuid("0F8C2D1E-5B7A-4C3D-9E8F-123456789ABC"));
  CHECK_FALSE(is_lowercase_uuid("0f8c2d1e5b7a4c3d9e8f123456789abc"));
  CHECK_FALSE(is_lowercase_uuid("0f8c2d1e-5b7a-4c3d-9e8f-123456789abg"));
  CHECK_FALSE(is_lowercase_uuid("{0f8c2d1e-5b7a-4c3d-9e8f-123456789ab}"));
}
