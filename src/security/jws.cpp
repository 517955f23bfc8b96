// JWS compact serialisation for EdDSA (Ed25519) and ES256 over OpenSSL's EVP signing API.
// ES256 signatures are converted between JOSE's fixed-width R||S and OpenSSL's DER form.
#include "pganalytics/security/jws.hpp"

#include "pganalytics/security/openssl_util.hpp"
#include "pganalytics/security/random.hpp"
#include "pganalytics/security/strict_json.hpp"

namespace pga::security {
namespace {

// Our tokens are a few hundred bytes; the cap bounds the work an unauthenticated caller can cause.
constexpr std::size_t kMaxCompactBytes = 8192;
constexpr int kEs256ScalarBytes = 32;

const unsigned char* bytes(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }
unsigned char* bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }

// EdDSA hashes internally and takes no digest; ES256 is ECDSA over SHA-256.
const EVP_MD* digest_for(JwsAlgorithm alg) { return alg == JwsAlgorithm::ES256 ? EVP_sha256() : nullptr; }

std::string digest_sign(EVP_PKEY* key, JwsAlgorithm alg, std::string_view input) {
  ossl::MdCtx ctx{EVP_MD_CTX_new()};
  std::size_t length = 0;
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, digest_for(alg), nullptr, key) != 1 ||
      EVP_DigestSign(ctx.get(), nullptr, &length, bytes(input), input.size()) != 1)
    ossl::fail("JWS signing");
  std::string signature(length, '\0');
  if (EVP_DigestSign(ctx.get(), bytes(signature), &length, bytes(input), input.size()) != 1)
    ossl::fail("JWS signing");
  signature.resize(length);
  return signature;
}

bool digest_verify(EVP_PKEY* key, JwsAlgorithm alg, std::string_view input, std::string_view signature) {
  ossl::MdCtx ctx{EVP_MD_CTX_new()};
  const bool valid = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, digest_for(alg), nullptr, key) == 1 &&
                     EVP_DigestVerify(ctx.get(), bytes(signature), signature.size(), bytes(input), input.size()) == 1;
  if (!valid) ossl::discard_errors();
  return valid;
}

std::string der_to_jose(std::string_view der) {
  const unsigned char* cursor = bytes(der);
  ossl::EcdsaSig sig{d2i_ECDSA_SIG(nullptr, &cursor, static_cast<long>(der.size()))};
  if (!sig) ossl::fail("decoding an ECDSA signature");
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig.get(), &r, &s);
  std::string jose(2 * kEs256ScalarBytes, '\0');
  if (BN_bn2binpad(r, bytes(jose), kEs256ScalarBytes) != kEs256ScalarBytes ||
      BN_bn2binpad(s, bytes(jose) + kEs256ScalarBytes, kEs256ScalarBytes) != kEs256ScalarBytes)
    ossl::fail("encoding an ECDSA signature");
  return jose;
}

std::optional<std::string> jose_to_der(std::string_view jose) {
  if (jose.size() != 2 * kEs256ScalarBytes) return std::nullopt;
  ossl::Bignum r{BN_bin2bn(bytes(jose), kEs256ScalarBytes, nullptr)};
  ossl::Bignum s{BN_bin2bn(bytes(jose) + kEs256ScalarBytes, kEs256ScalarBytes, nullptr)};
  ossl::EcdsaSig sig{ECDSA_SIG_new()};
  if (!r || !s || !sig || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) ossl::fail("building an ECDSA signature");
  r.release();  // owned by sig now
  s.release();
  const int length = i2d_ECDSA_SIG(sig.get(), nullptr);
  if (length <= 0) ossl::fail("encoding an ECDSA signature");
  std::string der(static_cast<std::size_t>(length), '\0');
  unsigned char* cursor = bytes(der);
  i2d_ECDSA_SIG(sig.get(), &cursor);
  return der;
}

}  // namespace

std::string_view to_string(JwsAlgorithm alg) { return alg == JwsAlgorithm::EdDSA ? "EdDSA" : "ES256"; }

std::optional<JwsAlgorithm> jws_algorithm_for_key(const EVP_PKEY* key) {
  if (EVP_PKEY_is_a(key, "ED25519")) return JwsAlgorithm::EdDSA;
  const std::string group = ossl::ec_group_name(key);
  if (group == "prime256v1" || group == "P-256") return JwsAlgorithm::ES256;
  return std::nullopt;
}

std::optional<CompactJws> decode_compact_jws(std::string_view compact) {
  if (compact.size() > kMaxCompactBytes) return std::nullopt;
  const std::size_t first = compact.find('.');
  const std::size_t second = first == std::string_view::npos ? first : compact.find('.', first + 1);
  if (second == std::string_view::npos || compact.find('.', second + 1) != std::string_view::npos)
    return std::nullopt;
  auto header_json = base64url_decode(compact.substr(0, first));
  auto payload = base64url_decode(compact.substr(first + 1, second - first - 1));
  auto signature = base64url_decode(compact.substr(second + 1));
  if (!header_json || !payload || !signature) return std::nullopt;
  auto header = parse_strict_json_object(*header_json);
  if (!header || header->contains("crit")) return std::nullopt;
  const auto* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string()) return std::nullopt;
  std::string alg_name(alg->get_string());
  return CompactJws{compact.substr(0, second), std::move(*header), std::move(alg_name), std::move(*payload),
                    std::move(*signature)};
}

std::string jws_sign(EVP_PKEY* key, JwsAlgorithm alg, std::string_view signing_input) {
  std::string signature = digest_sign(key, alg, signing_input);
  return alg == JwsAlgorithm::ES256 ? der_to_jose(signature) : signature;
}

bool jws_verify_signature(EVP_PKEY* key, JwsAlgorithm alg, std::string_view signing_input,
                          std::string_view signature) {
  if (alg == JwsAlgorithm::EdDSA) return digest_verify(key, alg, signing_input, signature);
  const auto der = jose_to_der(signature);
  return der && digest_verify(key, alg, signing_input, *der);
}

bool verify_jws_signature(std::string_view compact, std::string_view public_pem, JwsAlgorithm alg) {
  const auto jws = decode_compact_jws(compact);
  if (!jws || jws->alg != to_string(alg)) return false;
  const ossl::PKey key = ossl::parse_public_key(public_pem);
  if (!key || jws_algorithm_for_key(key.get()) != alg) return false;
  return jws_verify_signature(key.get(), alg, jws->signing_input, jws->signature);
}

}  // namespace pga::security
