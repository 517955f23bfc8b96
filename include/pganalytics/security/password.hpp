// Password hashing with argon2id at OWASP's recommended parameters, as PHC strings
// ("$argon2id$v=19$m=19456,t=2,p=1$<salt>$<tag>") that carry their own parameters.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace pga::security {

struct Argon2Parameters {
  std::uint32_t memory_kib = 19456;
  std::uint32_t iterations = 2;
  std::uint32_t parallelism = 1;
};
inline constexpr Argon2Parameters kPasswordHashParameters{};
inline constexpr std::size_t kMaxPasswordBytes = 1024;

// A fresh 16-byte salt and a 32-byte tag. Throws std::invalid_argument for an empty password or
// one over kMaxPasswordBytes (the message never contains the password).
std::string argon2id_hash_encoded(std::string_view password);

// True only when `encoded` is an argon2id PHC string and the password matches it. A malformed
// string, another variant, or parameters so large that checking them would exhaust memory
// (m > 256 MiB, t > 16, p > 16) give false; bad input never throws.
bool verify_password(std::string_view password, std::string_view encoded);

// True when `encoded` was made with parameters other than kPasswordHashParameters: rehash the
// password after the next successful login.
bool password_needs_rehash(std::string_view encoded);

}  // namespace pga::security
