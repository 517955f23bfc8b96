// The server's internal certificate authority (X.509 via OpenSSL 3): it issues the server's TLS
// certificate and signs agents' CSRs, deciding every subject and extension itself.
#pragma once
#include <openssl/types.h>

#include <boost/system/result.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pga::security {

// A new EC P-256 private key as unencrypted PKCS#8 PEM (for the CA, the server and agents).
std::string generate_ec_p256_private_key_pem();

enum class CsrError {
  Malformed,       // not a PEM certificate request, or over 16 KiB
  UnsupportedKey,  // not EC P-256/P-384, Ed25519, or RSA of at least 2048 bits
  BadSignature,    // unsigned, tampered with, or signed by another key than the one it carries
};
std::string_view to_string(CsrError error);
[[noreturn]] void throw_exception_from_error(CsrError error, const boost::source_location& where);

// Immutable once made; issuing is const and safe to call from several threads at once.
class CertificateAuthority {
 public:
  // A self-signed CA with a new P-256 key: basicConstraints CA:TRUE, pathlen 0 (it signs only end
  // entities), keyUsage keyCertSign and cRLSign, both critical, and key identifiers.
  static CertificateAuthority create(std::string_view common_name, std::chrono::seconds lifetime);
  // Throws std::invalid_argument if the PEMs do not parse, the key does not match the certificate,
  // or the certificate is not a CA.
  static CertificateAuthority load(std::string_view certificate_pem, std::string_view private_key_pem);

  const std::string& certificate_pem() const { return certificate_pem_; }
  // Unencrypted PKCS#8: seal it (secret_box.hpp) before it goes anywhere.
  std::string private_key_pem() const;

  // A TLS server certificate for the public half of `server_key_pem` (a private key PEM). Each
  // hostname becomes an IP SAN if it parses as IPv4 or IPv6, else a DNS SAN; the first one is
  // also the CN. Throws std::invalid_argument for an empty list or an invalid DNS name.
  std::string issue_server_certificate(const std::vector<std::string>& hostnames, std::string_view server_key_pem,
                                       std::chrono::seconds lifetime) const;

  // An agent's client certificate from its CSR. Only the CSR's public key (after its signature
  // is verified) is used: the requested subject and every requested extension are ignored. The
  // certificate gets CN=<collector_id>, SAN URI urn:uuid:<collector_id>, CA:FALSE and keyUsage
  // digitalSignature (both critical), EKU clientAuth, a random positive 128-bit serial, validity
  // from five minutes ago (clock skew) to now + lifetime, and the CA's key identifier. No
  // certificate outlives the CA. `collector_id` must be a lowercase UUID (std::invalid_argument).
  boost::system::result<std::string, CsrError> sign_client_csr(std::string_view csr_pem, std::string_view collector_id,
                                                               std::chrono::seconds lifetime) const;

 private:
  CertificateAuthority(std::shared_ptr<X509> certificate, std::shared_ptr<EVP_PKEY> key);

  std::shared_ptr<X509> certificate_;
  std::shared_ptr<EVP_PKEY> key_;
  std::string certificate_pem_;
};

// The agent's side: a CSR with subject CN=<common_name>, signed by the key (EC, Ed25519 or RSA PEM).
std::string make_csr(std::string_view private_key_pem, std::string_view common_name);

// "sha256:" + 64 lowercase hex digits of SHA-256 over the certificate's DER encoding: the value
// of `openssl x509 -noout -fingerprint -sha256` with the colons removed, lower-cased. Throws
// std::invalid_argument if the PEM is not a certificate.
std::string certificate_fingerprint_sha256(std::string_view certificate_pem);

// The collector a client certificate names: its single CN, a lowercase UUID, which its single
// SAN URI must repeat as urn:uuid:<id>. nullopt if either is missing or they disagree.
std::optional<std::string> certificate_collector_id(const X509* certificate);
std::optional<std::string> certificate_collector_id(std::string_view certificate_pem);

// notAfter as unix seconds, and the serial number as lowercase hex; both throw
// std::invalid_argument if the PEM is not a certificate.
std::int64_t certificate_not_before(std::string_view certificate_pem);
std::int64_t certificate_not_after(std::string_view certificate_pem);
std::string certificate_serial_hex(std::string_view certificate_pem);

// Whether the private key is the one whose public half the certificate carries.
bool key_matches_certificate(std::string_view private_key_pem, std::string_view certificate_pem);

// X509_verify_cert with `ca_pem` as the only trust anchor (signature chain and validity period).
// False for anything unparsable.
bool verify_certificate_against_ca(std::string_view certificate_pem, std::string_view ca_pem);

// True for the canonical lowercase 8-4-4-4-12 form.
bool is_lowercase_uuid(std::string_view text);

}  // namespace pga::security
