// JWS compact serialisation (RFC 7515) for the two asymmetric algorithms keys may be pinned to:
// EdDSA with Ed25519 (RFC 8037) and ES256 (RFC 7518 §3.4, signatures as raw R||S).
#pragma once
#include <openssl/types.h>

#include <boost/json/object.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace pga::security {

enum class JwsAlgorithm { EdDSA, ES256 };

// The header's "alg" spelling: "EdDSA", "ES256".
std::string_view to_string(JwsAlgorithm alg);

// The algorithm a key can be pinned to: Ed25519 → EdDSA, EC P-256 → ES256, anything else none.
std::optional<JwsAlgorithm> jws_algorithm_for_key(const EVP_PKEY* key);

// A compact JWS taken apart. Holds views into the token for the signing input.
struct CompactJws {
  std::string_view signing_input;  // "<header>.<payload>" exactly as received
  boost::json::object header;
  std::string alg;                 // the header's "alg", still untrusted
  std::string payload;
  std::string signature;
};

// nullopt unless the token is at most 8 KiB, has exactly three segments, each is strict
// base64url, and the header is a strict JSON object with a string "alg" and no "crit" (we
// implement no extensions, and RFC 7515 §4.1.11 says to reject what we do not understand).
std::optional<CompactJws> decode_compact_jws(std::string_view compact);

// The JOSE signature over `signing_input`; `key` must be a private key for `alg`.
std::string jws_sign(EVP_PKEY* key, JwsAlgorithm alg, std::string_view signing_input);
bool jws_verify_signature(EVP_PKEY* key, JwsAlgorithm alg, std::string_view signing_input,
                          std::string_view signature);

// Checks a compact JWS against a PEM public key pinned to `alg`: the header's "alg" must name
// the same algorithm and the key must be of its type. For tokens whose payload is not JWT claims.
bool verify_jws_signature(std::string_view compact, std::string_view public_pem, JwsAlgorithm alg);

}  // namespace pga::security
