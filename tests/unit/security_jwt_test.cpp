// JWS/JWT: the RFC 8037 and RFC 7515 examples, the key ring's pinning and rotation, and the
// negative vectors (alg none, alg confusion, bad encodings, bad claims) every verifier must refuse.
#include <doctest/doctest.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include <stdexcept>

#include "pganalytics/security/ca.hpp"
#include "pganalytics/security/jwt.hpp"
#include "pganalytics/security/openssl_util.hpp"
#include "pganalytics/security/random.hpp"

using namespace pga::security;
namespace ossl = pga::security::ossl;

namespace {

// RFC 8037 appendix A.1/A.2 (Ed25519 key) and A.4 (the JWS it signs).
constexpr std::string_view kRfc8037D = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
constexpr std::string_view kRfc8037X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
constexpr std::string_view kRfc8037Jws =
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

// RFC 7515 appendix A.3 (ES256 JWK and JWS).
constexpr std::string_view kRfc7515X = "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU";
constexpr std::string_view kRfc7515Y = "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0";
constexpr std::string_view kRfc7515Jws =
    "eyJhbGciOiJFUzI1NiJ9."
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ."
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

constexpr std::int64_t kNow = 1'800'000'000;
const Expectation kAgentAccess{"pganalytics", "pganalytics-agent", "access"};
constexpr std::string_view kHeaderK1 = R"({"alg":"EdDSA","typ":"JWT","kid":"k1"})";

std::string decoded(std::string_view text) {
  auto bytes = base64url_decode(text);
  REQUIRE(bytes);
  return *bytes;
}

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::string ed25519_private_pem(std::string_view d) {
  const std::string raw = decoded(d);
  const ossl::PKey key{EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, bytes(raw), raw.size())};
  REQUIRE(key);
  return ossl::private_key_to_pem(key.get());
}

std::string ed25519_public_pem(std::string_view x) {
  const std::string raw = decoded(x);
  const ossl::PKey key{EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, bytes(raw), raw.size())};
  REQUIRE(key);
  return ossl::public_key_to_pem(key.get());
}

// A JWK's x and y as an uncompressed P-256 point, loaded through OpenSSL 3's fromdata.
std::string p256_public_pem(std::string_view x, std::string_view y) {
  std::string point = "\x04" + decoded(x) + decoded(y);
  char group[] = "P-256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, group, 0),
                         OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
                         OSSL_PARAM_construct_end()};
  const ossl::PKeyCtx ctx{EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr)};
  EVP_PKEY* raw = nullptr;
  REQUIRE(EVP_PKEY_fromdata_init(ctx.get()) == 1);
  REQUIRE(EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_PUBLIC_KEY, params) == 1);
  const ossl::PKey key{raw};
  return ossl::public_key_to_pem(key.get());
}

// A token with exactly the given header and payload text, properly signed: the verifier must
// judge the content, not trip over the signature.
std::string signed_token(std::string_view header, std::string_view payload, std::string_view private_pem,
                         JwsAlgorithm alg = JwsAlgorithm::EdDSA) {
  const ossl::PKey key = ossl::parse_private_key(private_pem);
  REQUIRE(key);
  const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
  return input + "." + base64url_encode(jws_sign(key.get(), alg, input));
}

std::string claims_json(std::string_view exp_member = R"("exp":1800000900)") {
  return R"({"iss":"pganalytics","aud":"pganalytics-agent","sub":"0f8c2d1e-0000-4000-8000-000000000001",)"
         R"("typ":"access","jti":"j1","iat":1799999990,"nbf":1799999990,)" +
         std::string(exp_member) + "}";
}

Claims agent_claims() {
  return {"pganalytics", "pganalytics-agent", "0f8c2d1e-0000-4000-8000-000000000001", "access", "j1",
          kNow - 10, kNow - 10, kNow + 900};
}

JwtError rejection(const JwtResult<Claims>& result) {
  REQUIRE(result.has_error());
  return result.error();
}

struct Ring {
  std::string private_pem = generate_ed25519_private_key_pem();
  KeyRing ring;
  Ring() { ring.add_signing_key("k1", private_pem); }
  JwtResult<Claims> verify(std::string_view token, std::int64_t now = kNow) const {
    return ring.verify(token, kAgentAccess, now);
  }
  JwtError reject(std::string_view header, std::string_view payload) const {
    return rejection(verify(signed_token(header, payload, private_pem)));
  }
};

}  // namespace

TEST_CASE("RFC 8037 A.4: the Ed25519 JWS verifies with the A.2 public key") {
  const std::string public_pem = ed25519_public_pem(kRfc8037X);
  CHECK(verify_jws_signature(kRfc8037Jws, public_pem, JwsAlgorithm::EdDSA));
  CHECK_FALSE(verify_jws_signature(kRfc8037Jws, public_pem, JwsAlgorithm::ES256));

  // A.5: any change to the signed content or the signature breaks it.
  const std::string tampered_payload = "eyJhbGciOiJFZERTQSJ9." + base64url_encode("Example of Ed25519 signinG") +
                                       std::string(kRfc8037Jws.substr(kRfc8037Jws.rfind('.')));
  CHECK_FALSE(verify_jws_signature(tampered_payload, public_pem, JwsAlgorithm::EdDSA));
  std::string tampered_signature(kRfc8037Jws);
  char& flipped = tampered_signature[tampered_signature.size() - 5];
  flipped = flipped == 'A' ? 'B' : 'A';
  CHECK_FALSE(verify_jws_signature(tampered_signature, public_pem, JwsAlgorithm::EdDSA));
  CHECK_FALSE(verify_jws_signature(kRfc8037Jws, ed25519_public_pem(base64url_encode(random_bytes(32))),
                                   JwsAlgorithm::EdDSA));
}

TEST_CASE("RFC 8037 A.4: the A.1 private key signs exactly the published signature") {
  const ossl::PKey key = ossl::parse_private_key(ed25519_private_pem(kRfc8037D));
  const std::string_view input = kRfc8037Jws.substr(0, kRfc8037Jws.rfind('.'));
  CHECK(base64url_encode(jws_sign(key.get(), JwsAlgorithm::EdDSA, input)) ==
        kRfc8037Jws.substr(kRfc8037Jws.rfind('.') + 1));
  KeyRing ring;
  ring.add_signing_key("rfc8037", ed25519_private_pem(kRfc8037D));
  CHECK(ring.public_key_pem("rfc8037") == ed25519_public_pem(kRfc8037X));
}

TEST_CASE("RFC 7515 A.3: the ES256 JWS verifies with its JWK") {
  const std::string public_pem = p256_public_pem(kRfc7515X, kRfc7515Y);
  CHECK(verify_jws_signature(kRfc7515Jws, public_pem, JwsAlgorithm::ES256));
  CHECK_FALSE(verify_jws_signature(kRfc7515Jws, public_pem, JwsAlgorithm::EdDSA));
  std::string tampered(kRfc7515Jws);
  tampered[30] = tampered[30] == 'x' ? 'y' : 'x';
  CHECK_FALSE(verify_jws_signature(tampered, public_pem, JwsAlgorithm::ES256));
}

TEST_CASE("ES256 signatures are JOSE R||S, never DER") {
  const std::string private_pem = generate_ec_p256_private_key_pem();
  const ossl::PKey key = ossl::parse_private_key(private_pem);
  const std::string public_pem = ossl::public_key_to_pem(key.get());
  const std::string input = base64url_encode(R"({"alg":"ES256"})") + "." + base64url_encode("payload");
  const std::string jose = jws_sign(key.get(), JwsAlgorithm::ES256, input);
  CHECK(jose.size() == 64);
  CHECK(verify_jws_signature(input + "." + base64url_encode(jose), public_pem, JwsAlgorithm::ES256));

  const ossl::MdCtx ctx{EVP_MD_CTX_new()};
  std::size_t length = 0;
  REQUIRE(EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) == 1);
  REQUIRE(EVP_DigestSign(ctx.get(), nullptr, &length, bytes(input), input.size()) == 1);
  std::string der(length, '\0');
  REQUIRE(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(der.data()), &length, bytes(input),
                         input.size()) == 1);
  der.resize(length);
  CHECK_FALSE(verify_jws_signature(input + "." + base64url_encode(der), public_pem, JwsAlgorithm::ES256));
}

TEST_CASE("the key ring signs and verifies with EdDSA and ES256") {
  const std::pair<std::string, JwsAlgorithm> keys[] = {{generate_ed25519_private_key_pem(), JwsAlgorithm::EdDSA},
                                                       {generate_ec_p256_private_key_pem(), JwsAlgorithm::ES256}};
  for (const auto& [pem, alg] : keys) {
    KeyRing ring;
    ring.add_signing_key("k", pem);
    const std::string token = ring.sign(agent_claims());
    const auto claims = ring.verify(token, kAgentAccess, kNow);
    REQUIRE(claims.has_value());
    CHECK(claims->iss == "pganalytics");
    CHECK(claims->aud == "pganalytics-agent");
    CHECK(claims->sub == "0f8c2d1e-0000-4000-8000-000000000001");
    CHECK(claims->typ == "access");
    CHECK(claims->jti == "j1");
    CHECK(claims->iat == kNow - 10);
    CHECK(claims->nbf == kNow - 10);
    CHECK(claims->exp == kNow + 900);
    const auto jws = decode_compact_jws(token);
    REQUIRE(jws);
    CHECK(jws->header.size() == 3);
    CHECK(jws->alg == to_string(alg));
    CHECK(jws->header.at("typ") == "JWT");
    CHECK(jws->header.at("kid") == "k");
    CHECK(jws->signature.size() == 64);
    CHECK(verify_jws_signature(token, *ring.public_key_pem("k"), alg));
  }
}

TEST_CASE("the header's alg never chooses the algorithm") {
  Ring r;
  CHECK(r.verify(signed_token(kHeaderK1, claims_json(), r.private_pem)).has_value());  // the control

  // alg none, with and without a signature.
  const std::string none_input = base64url_encode(R"({"alg":"none","typ":"JWT","kid":"k1"})") + "." +
                                 base64url_encode(claims_json());
  CHECK(rejection(r.verify(none_input + ".")) == JwtError::AlgorithmMismatch);
  CHECK(rejection(r.verify(none_input + ".c2ln")) == JwtError::AlgorithmMismatch);

  // HS256 keyed with the public key PEM: the classic confusion attack.
  const std::string public_pem = *r.ring.public_key_pem("k1");
  const std::string hs_input = base64url_encode(R"({"alg":"HS256","typ":"JWT","kid":"k1"})") + "." +
                               base64url_encode(claims_json());
  unsigned char mac[32];
  std::size_t mac_length = 0;
  REQUIRE(EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, public_pem.data(), public_pem.size(),
                    bytes(hs_input), hs_input.size(), mac, sizeof mac, &mac_length) != nullptr);
  const std::string hs_token =
      hs_input + "." + base64url_encode(std::string_view(reinterpret_cast<const char*>(mac), mac_length));
  CHECK(rejection(r.verify(hs_token)) == JwtError::AlgorithmMismatch);

  // A correct EdDSA signature under a header claiming ES256.
  CHECK(r.reject(R"({"alg":"ES256","typ":"JWT","kid":"k1"})", claims_json()) == JwtError::AlgorithmMismatch);
  CHECK(r.reject(R"({"alg":"eddsa","typ":"JWT","kid":"k1"})", claims_json()) == JwtError::AlgorithmMismatch);
}

TEST_CASE("structurally bad tokens are malformed") {
  Ring r;
  const std::string good = r.ring.sign(agent_claims());
  REQUIRE(r.verify(good).has_value());
  const std::size_t dot = good.find('.');
  for (const std::string& bad :
       {good + ".", good + ".AAAA", good + " ", " " + good, good + "\n", good.substr(0, good.rfind('.')),
        std::string("a.b"), std::string(".."), std::string(), good.substr(0, dot) + "=" + good.substr(dot),
        good.substr(0, dot + 1) + "+" + good.substr(dot + 2), good + "=", good + std::string(9000, 'A')})
    CHECK_MESSAGE(rejection(r.verify(bad)) == JwtError::Malformed, bad);
}

TEST_CASE("headers and payloads must be strict JSON objects with typed claims") {
  Ring r;
  CHECK(r.reject("[]", claims_json()) == JwtError::Malformed);
  CHECK(r.reject(R"({"alg":"EdDSA","alg":"EdDSA","typ":"JWT","kid":"k1"})", claims_json()) == JwtError::Malformed);
  CHECK(r.reject(R"({"alg":"EdDSA","typ":"at+jwt","kid":"k1"})", claims_json()) == JwtError::Malformed);
  CHECK(r.reject(R"({"alg":"EdDSA","typ":"JWT","kid":"k1","crit":["exp"]})", claims_json()) == JwtError::Malformed);
  CHECK(r.reject(R"({"alg":"EdDSA","typ":"JWT","kid":"k1"} x)", claims_json()) == JwtError::Malformed);
  CHECK(r.reject(kHeaderK1, "[1,2]") == JwtError::Malformed);
  CHECK(r.reject(kHeaderK1, "not json") == JwtError::Malformed);
  CHECK(r.reject(kHeaderK1, claims_json() + "{}") == JwtError::Malformed);
  CHECK(r.reject(kHeaderK1, claims_json(R"("exp":1800000900,"exp":1900000000)")) == JwtError::Malformed);
  CHECK(r.reject(kHeaderK1, claims_json(R"("exp":1800000900.5)")) == JwtError::Malformed);
  CHECK(r.reject(kHeaderK1, claims_json(R"("exp":1.8e9)")) == JwtError::Malformed);
  CHECK(r.reject(kHeaderK1, claims_json(R"("exp":"1800000900")")) == JwtError::Malformed);
  CHECK(r.reject(kHeaderK1, claims_json(R"("exp":18446744073709551615)")) == JwtError::Malformed);
  CHECK(r.reject(kHeaderK1, claims_json(R"("nope":1)")) == JwtError::Malformed);
  std::string without_jti = claims_json();
  without_jti.erase(without_jti.find(R"("jti":"j1",)"), 10);
  CHECK(r.reject(kHeaderK1, without_jti) == JwtError::Malformed);
  CHECK(r.reject(kHeaderK1, claims_json(R"("exp":1800000900,"x":{"a":1,"a":2})")) == JwtError::Malformed);
}

TEST_CASE("keys are found by kid only") {
  Ring r;
  CHECK(r.reject(R"({"alg":"EdDSA","typ":"JWT"})", claims_json()) == JwtError::UnknownKey);
  CHECK(r.reject(R"({"alg":"EdDSA","typ":"JWT","kid":"k2"})", claims_json()) == JwtError::UnknownKey);
  CHECK(r.reject(R"({"alg":"EdDSA","typ":"JWT","kid":1})", claims_json()) == JwtError::UnknownKey);
  // Right kid, wrong key: a stranger's Ed25519 key cannot sign for k1.
  const std::string stranger = signed_token(kHeaderK1, claims_json(), generate_ed25519_private_key_pem());
  CHECK(rejection(r.verify(stranger)) == JwtError::BadSignature);
}

TEST_CASE("a tampered payload fails the signature") {
  Ring r;
  const std::string token = r.ring.sign(agent_claims());
  const std::size_t first = token.find('.');
  const std::size_t second = token.rfind('.');
  std::string payload = decoded(std::string_view(token).substr(first + 1, second - first - 1));
  payload.replace(payload.find("0f8c2d1e"), 8, "0f8c2d1f");
  const std::string forged = token.substr(0, first + 1) + base64url_encode(payload) + token.substr(second);
  CHECK(rejection(r.verify(forged)) == JwtError::BadSignature);
}

TEST_CASE("time claims are enforced with the leeway") {
  Ring r;
  Claims claims = agent_claims();
  claims.exp = kNow - 31;
  CHECK(rejection(r.verify(r.ring.sign(claims))) == JwtError::Expired);
  claims.exp = kNow - 30;
  CHECK(rejection(r.verify(r.ring.sign(claims))) == JwtError::Expired);
  claims.exp = kNow - 29;
  CHECK(r.verify(r.ring.sign(claims)).has_value());
  CHECK(rejection(r.ring.verify(r.ring.sign(claims), kAgentAccess, kNow, 0)) == JwtError::Expired);

  claims = agent_claims();
  claims.nbf = kNow + 31;
  CHECK(rejection(r.verify(r.ring.sign(claims))) == JwtError::NotYetValid);
  claims.nbf = kNow + 30;
  CHECK(r.verify(r.ring.sign(claims)).has_value());
  claims = agent_claims();
  claims.iat = kNow + 3600;
  CHECK(rejection(r.verify(r.ring.sign(claims))) == JwtError::NotYetValid);
  CHECK_THROWS_AS(r.ring.verify(r.ring.sign(agent_claims()), kAgentAccess, kNow, -1), std::invalid_argument);
}

TEST_CASE("issuer, audience and type must be the expected ones") {
  Ring r;
  Claims claims = agent_claims();
  claims.iss = "someone-else";
  CHECK(rejection(r.verify(r.ring.sign(claims))) == JwtError::WrongIssuer);
  claims = agent_claims();
  claims.aud = "pganalytics-user";
  CHECK(rejection(r.verify(r.ring.sign(claims))) == JwtError::WrongAudience);
  claims = agent_claims();
  claims.typ = "refresh";
  CHECK(rejection(r.verify(r.ring.sign(claims))) == JwtError::WrongType);
  CHECK(r.reject(kHeaderK1, R"({"iss":"pganalytics","aud":["pganalytics-agent"],"sub":"s","typ":"access",)"
                            R"("jti":"j","iat":1799999990,"nbf":1799999990,"exp":1800000900})") ==
        JwtError::Malformed);
}

TEST_CASE("rotation: tokens of the previous key stay valid, new tokens use the new key") {
  Ring r;
  const std::string old_token = r.ring.sign(agent_claims());
  r.ring.add_signing_key("k2", generate_ec_p256_private_key_pem());
  CHECK(r.ring.signing_kid() == "k2");
  const std::string new_token = r.ring.sign(agent_claims());
  CHECK(decode_compact_jws(new_token)->header.at("kid") == "k2");
  CHECK(decode_compact_jws(new_token)->alg == "ES256");
  CHECK(r.verify(old_token).has_value());
  CHECK(r.verify(new_token).has_value());

  // A replica holding only the public halves verifies both.
  KeyRing verifier;
  verifier.add_verification_key("k1", *r.ring.public_key_pem("k1"), JwsAlgorithm::EdDSA);
  verifier.add_verification_key("k2", *r.ring.public_key_pem("k2"), JwsAlgorithm::ES256);
  CHECK(verifier.signing_kid().empty());
  CHECK(verifier.verify(old_token, kAgentAccess, kNow).has_value());
  CHECK(verifier.verify(new_token, kAgentAccess, kNow).has_value());
  CHECK_THROWS_AS(verifier.sign(agent_claims()), std::logic_error);
}

TEST_CASE("keys are checked when they join the ring") {
  KeyRing ring;
  const std::string ed = generate_ed25519_private_key_pem();
  ring.add_signing_key("k1", ed);
  CHECK_THROWS_AS(ring.add_signing_key("k1", generate_ed25519_private_key_pem()), std::invalid_argument);
  CHECK_THROWS_AS(ring.add_signing_key("", ed), std::invalid_argument);
  CHECK_THROWS_AS(ring.add_signing_key("k2", "not a key"), std::invalid_argument);
  CHECK_THROWS_AS(ring.add_verification_key("k3", *ring.public_key_pem("k1"), JwsAlgorithm::ES256),
                  std::invalid_argument);
  CHECK_THROWS_AS(ring.add_verification_key("k4", ed, JwsAlgorithm::EdDSA), std::invalid_argument);
  const ossl::PKey rsa{EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(2048))};
  REQUIRE(rsa);
  CHECK_THROWS_AS(ring.add_signing_key("rsa", ossl::private_key_to_pem(rsa.get())), std::invalid_argument);
  CHECK(ring.signing_kid() == "k1");
  CHECK_FALSE(ring.public_key_pem("missing"));
}

TEST_CASE("errors have names and value() throws them") {
  CHECK(to_string(JwtError::Expired) == "token expired");
  CHECK(to_string(JwtError::AlgorithmMismatch) == "algorithm does not match the key");
  Ring r;
  CHECK_THROWS_WITH_AS(r.verify("x.y.z").value(), "JWT rejected: malformed token", std::runtime_error);
}
