// The password policy. Length counts characters (UTF-8 code points), not bytes. The breached
// list holds the most common passwords long enough to pass the length rule (shorter ones are
// refused by it anyway): top entries of public breach corpora (RockYou, HIBP's most frequent).
#include "pganalytics/security/password_policy.hpp"

#include <algorithm>
#include <iterator>

#include "pganalytics/security/password.hpp"

namespace pga::security {
namespace {

constexpr std::string_view kBreached[] = {
    "123456789012", "1234567890123", "12345678901234", "123456789123", "1234567891011", "111111111111",
    "000000000000", "123123123123", "121212121212", "987654321098", "1111111111111", "112233445566",
    "qwertyuiopasdfghjkl", "qwertyuiop123", "qwertyuiopas", "qwerty123456", "qwerty1234567", "qwerty12345678",
    "qwertyqwerty", "qwerty1234567890", "1234567890qwerty", "0987654321qwerty", "1q2w3e4r5t6y", "1q2w3e4r5t6y7u",
    "1qaz2wsx3edc", "1qaz2wsx3edc4rfv", "zaq12wsxcde3", "zaq1zaq1zaq1", "qazwsxedcrfv", "qazwsxedc123",
    "asdfghjkl123", "asdfasdfasdf", "asdf1234asdf", "zxcvbnm12345", "zxcvbnmasdfghjkl", "123qweasdzxc",
    "1234qwerasdf", "1234qwerasdfzxcv", "q1w2e3r4t5y6", "q1w2e3r4t5y6u7", "1234567890abc", "passwordpassword",
    "password1234", "password12345", "password123456", "password1234!", "mypassword123", "mypassword1234",
    "secretpassword", "supersecret123", "pa55w0rd1234", "p@ssw0rd1234", "p@ssword1234", "passw0rd1234",
    "changeme1234", "changemeplease", "iloveyou1234", "iloveyou12345", "iloveyouiloveyou", "letmein12345",
    "letmeinletmein", "welcome12345", "welcome123456", "welcome@12345", "administrator", "administrator1",
    "admin1234567", "adminadmin123", "adminpassword", "trustno1trustno1", "football1234", "baseball1234",
    "basketball12", "superman1234", "princess1234", "sunshine1234", "starwars1234", "monkey123456",
    "dragon123456", "master123456", "michael12345", "jennifer1234", "spongebob1234", "pokemon12345",
    "liverpool1234", "chelsea12345", "arsenal12345", "manchester123", "computer1234", "internet1234",
    "samsung12345", "google123456", "facebook1234", "linkedin1234", "abcdefghijkl", "abcdefghijklm",
    "abcdefg12345", "abc123456789", "abcd12345678", "a1b2c3d4e5f6", "aaaaaaaaaaaa", "aaaaaaaaaaaaa",
    "qqqqqqqqqqqq", "correcthorsebatterystaple", "correct horse battery staple", "thequickbrownfox",
    "pganalytics123", "pganalytics1234", "postgres1234", "postgresql123", "postgresql1234", "monitoring123",
    "rootpassword", "toortoortoor",
};

std::string lowercase(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c); });
  return out;
}

std::size_t code_points(std::string_view text) {
  return static_cast<std::size_t>(
      std::count_if(text.begin(), text.end(), [](unsigned char c) { return (c & 0xC0) != 0x80; }));
}

}  // namespace

std::optional<std::string> username_problem(std::string_view username) {
  if (username.empty()) return "the user name is empty";
  if (username.size() > kMaxUsernameBytes)
    return "the user name is longer than " + std::to_string(kMaxUsernameBytes) + " bytes";
  for (unsigned char c : username)
    if (c < 0x20 || c == 0x7f) return "the user name contains a control character";
  if (username.front() == ' ' || username.back() == ' ') return "the user name starts or ends with a space";
  return std::nullopt;
}

std::optional<std::string> password_problem(std::string_view username, std::string_view password) {
  if (code_points(password) < kMinPasswordCharacters)
    return "the password needs at least " + std::to_string(kMinPasswordCharacters) + " characters";
  if (password.size() > kMaxPasswordBytes)
    return "the password is longer than " + std::to_string(kMaxPasswordBytes) + " bytes";
  if (password.find('\0') != std::string_view::npos) return "the password contains a NUL character";
  const auto folded = lowercase(password);
  if (folded == lowercase(username)) return "the password may not be the user name";
  if (std::find(std::begin(kBreached), std::end(kBreached), folded) != std::end(kBreached))
    return "this password is among the most common ones in breaches; choose another";
  return std::nullopt;
}

}  // namespace pga::security
