// JSON Web Tokens: a key ring of algorithm-pinned keys, signing with the newest, strict checks.
// The key is found by kid and its pinned algorithm is compared with the header, never taken from it.
#include "pganalytics/security/jwt.hpp"

#include <boost/json/serialize.hpp>

#include <stdexcept>

#include "pganalytics/security/openssl_util.hpp"
#include "pganalytics/security/random.hpp"
#include "pganalytics/security/strict_json.hpp"

namespace pga::security {

struct KeyRing::Key {
  JwsAlgorithm alg;
  ossl::PKey pkey;
};

namespace {

namespace json = boost::json;

constexpr std::size_t kMaxKidBytes = 128;
constexpr std::int64_t kMaxLeewaySeconds = 3600;

// One table drives both writing and reading claims, so the two cannot drift apart.
constexpr std::pair<std::string_view, std::string Claims::*> kStringClaims[] = {
    {"iss", &Claims::iss}, {"aud", &Claims::aud}, {"sub", &Claims::sub}, {"typ", &Claims::typ}, {"jti", &Claims::jti}};
constexpr std::pair<std::string_view, std::int64_t Claims::*> kTimeClaims[] = {
    {"iat", &Claims::iat}, {"nbf", &Claims::nbf}, {"exp", &Claims::exp}};

json::string_view js(std::string_view s) { return {s.data(), s.size()}; }

json::object claims_to_json(const Claims& claims) {
  json::object object;
  for (const auto& [name, member] : kStringClaims) object[js(name)] = js(claims.*member);
  for (const auto& [name, member] : kTimeClaims) object[js(name)] = claims.*member;
  if (!claims.sid.empty()) object["sid"] = js(claims.sid);
  return object;
}

// Every claim present (sid only when there) with its exact type: non-empty strings, and times
// as JSON integers (a fraction, an exponent or a number beyond int64 is not accepted).
std::optional<Claims> claims_from_json(const json::object& object) {
  Claims claims;
  for (const auto& [name, member] : kStringClaims) {
    const json::value* value = object.if_contains(js(name));
    if (value == nullptr || !value->is_string() || value->get_string().empty()) return std::nullopt;
    claims.*member = std::string(value->get_string());
  }
  for (const auto& [name, member] : kTimeClaims) {
    const json::value* value = object.if_contains(js(name));
    if (value == nullptr || !value->is_int64()) return std::nullopt;
    claims.*member = value->get_int64();
  }
  if (const json::value* sid = object.if_contains("sid")) {
    if (!sid->is_string() || sid->get_string().empty()) return std::nullopt;
    claims.sid = std::string(sid->get_string());
  }
  return claims;
}

bool header_type_acceptable(const json::object& header) {
  const json::value* typ = header.if_contains("typ");
  return typ == nullptr || (typ->is_string() && typ->get_string() == "JWT");
}

std::optional<JwtError> check_claims(const Claims& claims, const Expectation& expected, std::int64_t now,
                                     std::int64_t leeway) {
  if (claims.iss != expected.iss) return JwtError::WrongIssuer;
  if (claims.aud != expected.aud) return JwtError::WrongAudience;
  if (claims.typ != expected.typ) return JwtError::WrongType;
  if (now - leeway >= claims.exp) return JwtError::Expired;
  if (claims.nbf > now + leeway || claims.iat > now + leeway) return JwtError::NotYetValid;
  return std::nullopt;
}

}  // namespace

std::string_view to_string(JwtError error) {
  switch (error) {
    case JwtError::Malformed: return "malformed token";
    case JwtError::UnknownKey: return "unknown signing key";
    case JwtError::AlgorithmMismatch: return "algorithm does not match the key";
    case JwtError::BadSignature: return "bad signature";
    case JwtError::Expired: return "token expired";
    case JwtError::NotYetValid: return "token not yet valid";
    case JwtError::WrongIssuer: return "wrong issuer";
    case JwtError::WrongAudience: return "wrong audience";
    case JwtError::WrongType: return "wrong token type";
  }
  return "unknown error";
}

void throw_exception_from_error(JwtError error, const boost::source_location&) {
  throw std::runtime_error("JWT rejected: " + std::string(to_string(error)));
}

std::string generate_ed25519_private_key_pem() {
  ossl::PKey key{EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")};
  if (!key) ossl::fail("generating an Ed25519 key");
  return ossl::private_key_to_pem(key.get());
}

void KeyRing::add(const std::string& kid, std::shared_ptr<const Key> key) {
  if (kid.empty() || kid.size() > kMaxKidBytes) throw std::invalid_argument("a JWT key id must be 1 to 128 bytes");
  if (!keys_.emplace(kid, std::move(key)).second)
    throw std::invalid_argument("JWT key id '" + kid + "' is already in the key ring");
}

void KeyRing::add_signing_key(const std::string& kid, std::string_view private_pem) {
  ossl::PKey pkey = ossl::parse_private_key(private_pem);
  if (!pkey) throw std::invalid_argument("JWT key '" + kid + "' is not a PEM private key");
  const auto alg = jws_algorithm_for_key(pkey.get());
  if (!alg) throw std::invalid_argument("JWT key '" + kid + "' must be an Ed25519 or EC P-256 key");
  add(kid, std::make_shared<const Key>(Key{*alg, std::move(pkey)}));
  signing_kid_ = kid;
}

void KeyRing::add_verification_key(const std::string& kid, std::string_view public_pem, JwsAlgorithm alg) {
  ossl::PKey pkey = ossl::parse_public_key(public_pem);
  if (!pkey) throw std::invalid_argument("JWT key '" + kid + "' is not a PEM public key");
  if (jws_algorithm_for_key(pkey.get()) != alg)
    throw std::invalid_argument("JWT key '" + kid + "' is not a key for " + std::string(to_string(alg)));
  add(kid, std::make_shared<const Key>(Key{alg, std::move(pkey)}));
}

std::optional<std::string> KeyRing::public_key_pem(std::string_view kid) const {
  const auto it = keys_.find(kid);
  if (it == keys_.end()) return std::nullopt;
  return ossl::public_key_to_pem(it->second->pkey.get());
}

const std::string& KeyRing::signing_kid() const { return signing_kid_; }

std::string KeyRing::sign(const Claims& claims) const {
  if (signing_kid_.empty()) throw std::logic_error("KeyRing::sign: the key ring has no signing key");
  const Key& key = *keys_.at(signing_kid_);
  const json::object header{{"alg", js(to_string(key.alg))}, {"typ", "JWT"}, {"kid", js(signing_kid_)}};
  std::string token = base64url_encode(json::serialize(header));
  token.append(".").append(base64url_encode(json::serialize(claims_to_json(claims))));
  const std::string signature = jws_sign(key.pkey.get(), key.alg, token);
  return token.append(".").append(base64url_encode(signature));
}

JwtResult<Claims> KeyRing::verify(std::string_view token, const Expectation& expected, std::int64_t now_unix,
                                  std::int64_t leeway_seconds) const {
  if (leeway_seconds < 0 || leeway_seconds > kMaxLeewaySeconds)
    throw std::invalid_argument("JWT leeway must be between 0 and 3600 seconds");
  const auto jws = decode_compact_jws(token);
  if (!jws || !header_type_acceptable(jws->header)) return JwtError::Malformed;
  const json::value* kid = jws->header.if_contains("kid");
  if (kid == nullptr || !kid->is_string()) return JwtError::UnknownKey;
  const auto it = keys_.find(std::string_view(kid->get_string()));
  if (it == keys_.end()) return JwtError::UnknownKey;
  const Key& key = *it->second;
  if (jws->alg != to_string(key.alg)) return JwtError::AlgorithmMismatch;
  if (!jws_verify_signature(key.pkey.get(), key.alg, jws->signing_input, jws->signature))
    return JwtError::BadSignature;
  const auto payload = parse_strict_json_object(jws->payload);
  auto claims = payload ? claims_from_json(*payload) : std::nullopt;
  if (!claims) return JwtError::Malformed;
  if (const auto error = check_claims(*claims, expected, now_unix, leeway_seconds)) return *error;
  return std::move(*claims);
}

}  // namespace pga::security
