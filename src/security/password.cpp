// Password hashing with argon2id (libargon2) at OWASP's parameters, as PHC strings.
// Verification reads the parameters from the stored string, so they can be raised later.
#include "pganalytics/security/password.hpp"

#include <argon2.h>

#include <charconv>
#include <cstring>
#include <optional>
#include <stdexcept>

#include "pganalytics/security/random.hpp"

namespace pga::security {
namespace {

constexpr std::uint32_t kSaltBytes = 16;
constexpr std::uint32_t kTagBytes = 32;
constexpr std::string_view kPhcPrefix = "$argon2id$v=19$";

// Bounds on what a stored string may demand before we spend memory and time on it: a corrupted
// or planted row must not let one login attempt allocate gigabytes.
constexpr Argon2Parameters kVerifyLimits{.memory_kib = 256 * 1024, .iterations = 16, .parallelism = 16};

bool acceptable_length(std::string_view password) {
  return !password.empty() && password.size() <= kMaxPasswordBytes;
}

// Reads "<name><digits><terminator>" from the front of `rest`.
bool take_field(std::string_view& rest, std::string_view name, char terminator, std::uint32_t& out) {
  if (!rest.starts_with(name)) return false;
  rest.remove_prefix(name.size());
  const char* end_of_rest = rest.data() + rest.size();
  auto [end, ec] = std::from_chars(rest.data(), end_of_rest, out);
  if (ec != std::errc{} || end == rest.data() || end == end_of_rest || *end != terminator) return false;
  rest.remove_prefix(static_cast<std::size_t>(end - rest.data()) + 1);
  return true;
}

std::optional<Argon2Parameters> parse_parameters(std::string_view encoded) {
  if (!encoded.starts_with(kPhcPrefix) || encoded.find('\0') != std::string_view::npos) return std::nullopt;
  std::string_view rest = encoded.substr(kPhcPrefix.size());
  Argon2Parameters p;
  if (!take_field(rest, "m=", ',', p.memory_kib) || !take_field(rest, "t=", ',', p.iterations) ||
      !take_field(rest, "p=", '$', p.parallelism))
    return std::nullopt;
  return p;
}

bool within_limits(const Argon2Parameters& p) {
  return p.memory_kib <= kVerifyLimits.memory_kib && p.iterations <= kVerifyLimits.iterations &&
         p.parallelism <= kVerifyLimits.parallelism;
}

}  // namespace

std::string argon2id_hash_encoded(std::string_view password) {
  if (!acceptable_length(password))
    throw std::invalid_argument("a password must be between 1 and 1024 bytes long");
  const auto& p = kPasswordHashParameters;
  const std::string salt = random_bytes(kSaltBytes);
  std::string encoded(argon2_encodedlen(p.iterations, p.memory_kib, p.parallelism, kSaltBytes, kTagBytes, Argon2_id),
                      '\0');
  const int rc = ::argon2id_hash_encoded(p.iterations, p.memory_kib, p.parallelism, password.data(), password.size(),
                                         salt.data(), salt.size(), kTagBytes, encoded.data(), encoded.size());
  if (rc != ARGON2_OK) throw std::runtime_error(std::string("argon2id hashing failed: ") + argon2_error_message(rc));
  encoded.resize(std::strlen(encoded.c_str()));
  return encoded;
}

bool verify_password(std::string_view password, std::string_view encoded) {
  if (!acceptable_length(password)) return false;
  const auto parameters = parse_parameters(encoded);
  if (!parameters || !within_limits(*parameters)) return false;
  const std::string phc(encoded);  // libargon2 wants a NUL-terminated string
  const int rc = argon2id_verify(phc.c_str(), password.data(), password.size());
  if (rc == ARGON2_MEMORY_ALLOCATION_ERROR) throw std::runtime_error("argon2id verification: out of memory");
  return rc == ARGON2_OK;
}

bool password_needs_rehash(std::string_view encoded) {
  const auto p = parse_parameters(encoded);
  const auto& want = kPasswordHashParameters;
  return !p || p->memory_kib != want.memory_kib || p->iterations != want.iterations ||
         p->parallelism != want.parallelism;
}

}  // namespace pga::security
