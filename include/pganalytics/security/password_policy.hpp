// What a new password must be (issue 14.3): at least 12 characters, not the user name, and not
// one of the passwords most often seen in breaches (a short list compiled in, compared without
// regard to case); and what a user name may be. Checked wherever one is set: API and CLI.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pga::security {

inline constexpr std::size_t kMinPasswordCharacters = 12;

inline constexpr std::size_t kMaxUsernameBytes = 64;

// Why `username` is refused (empty, longer than 64 bytes, control characters, or space at
// either end), or nullopt.
std::optional<std::string> username_problem(std::string_view username);

// Why `password` is refused for `username`, or nullopt when it is acceptable. The message never
// repeats the password.
std::optional<std::string> password_problem(std::string_view username, std::string_view password);

}  // namespace pga::security
