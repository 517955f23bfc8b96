// JSON Web Tokens for agents and users: a key ring whose keys are pinned to one algorithm each
// (the header's "alg" never chooses it), signing with the newest key, strict verification.
#pragma once
#include <boost/system/result.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pganalytics/security/jws.hpp"

namespace pga::security {

// Every claim but `sid` is required. `typ` is a payload claim naming the token's use ("access"); the
// header's typ is always "JWT". `aud` is a single string, as we issue it.
struct Claims {
  std::string iss;
  std::string aud;
  std::string sub;
  std::string typ;
  std::string jti;
  std::int64_t iat = 0;
  std::int64_t nbf = 0;
  std::int64_t exp = 0;
  // Optional: the session the token belongs to (written only when set), so a server can refuse
  // the token once that session is revoked.
  std::string sid = {};
};

// What the route accepting a token requires of it; agents and users get different audiences.
struct Expectation {
  std::string iss;
  std::string aud;
  std::string typ;
};

enum class JwtError {
  Malformed,          // not three strict base64url segments of strict JSON, or a claim missing or mistyped
  UnknownKey,         // no "kid", or one the ring does not hold
  AlgorithmMismatch,  // the header's "alg" is not the algorithm pinned to that key
  BadSignature,
  Expired,
  NotYetValid,        // before nbf, or issued in the future
  WrongIssuer,
  WrongAudience,
  WrongType,
};
std::string_view to_string(JwtError error);
// Lets JwtResult::value() throw (std::runtime_error naming the error) when a caller wants that.
[[noreturn]] void throw_exception_from_error(JwtError error, const boost::source_location& where);

template <typename T>
using JwtResult = boost::system::result<T, JwtError>;

// A new Ed25519 private key as unencrypted PKCS#8 PEM (seal it before storing it).
std::string generate_ed25519_private_key_pem();

// Holds signing and verification keys by kid. Not synchronised: build or change it on one
// thread, then share it read-only (sign and verify are const and safe to call concurrently);
// it is cheap to copy, so rotation can publish a new copy.
class KeyRing {
 public:
  // Adds a private key (Ed25519 → EdDSA, EC P-256 → ES256) and makes it the signer. Keys added
  // before it stay for verification, so the tokens they signed remain valid until they expire.
  // Throws std::invalid_argument for an empty or repeated kid, or a key of another type.
  void add_signing_key(const std::string& kid, std::string_view private_pem);
  // Adds a public key pinned to `alg`; throws std::invalid_argument as above or if the key's
  // type does not fit `alg`.
  void add_verification_key(const std::string& kid, std::string_view public_pem, JwsAlgorithm alg);

  std::optional<std::string> public_key_pem(std::string_view kid) const;
  // The kid new tokens are signed with; empty while the ring has no private key.
  const std::string& signing_kid() const;

  // A compact JWS with header {"alg", "typ":"JWT", "kid"}. Throws std::logic_error without a
  // signing key.
  std::string sign(const Claims& claims) const;

  // Checks structure, key, pinned algorithm, signature, then iss, aud, typ, exp, nbf and iat
  // (allowing `leeway_seconds` of clock skew). A bad token is a value, never an exception; only
  // a leeway outside 0..3600 s (a caller's bug) throws std::invalid_argument.
  JwtResult<Claims> verify(std::string_view token, const Expectation& expected, std::int64_t now_unix,
                           std::int64_t leeway_seconds = 30) const;

 private:
  struct Key;
  void add(const std::string& kid, std::shared_ptr<const Key> key);

  std::map<std::string, std::shared_ptr<const Key>, std::less<>> keys_;
  std::string signing_kid_;
};

}  // namespace pga::security
