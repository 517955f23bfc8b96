// argon2id password hashing: OWASP parameters, round trip, and refusal of bad input.
#include <argon2.h>
#include <doctest/doctest.h>

#include <stdexcept>

#include "pganalytics/security/password.hpp"

using namespace pga::security;

TEST_CASE("argon2id hashes verify the right password only") {
  const std::string encoded = argon2id_hash_encoded("correct horse battery staple");
  CHECK(encoded.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
  CHECK(verify_password("correct horse battery staple", encoded));
  CHECK_FALSE(verify_password("correct horse battery stapl", encoded));
  CHECK_FALSE(verify_password("Correct horse battery staple", encoded));
  CHECK_FALSE(password_needs_rehash(encoded));
}

TEST_CASE("argon2id salts every hash") {
  CHECK(argon2id_hash_encoded("same password") != argon2id_hash_encoded("same password"));
}

TEST_CASE("argon2id refuses empty and oversized passwords") {
  CHECK_THROWS_AS(argon2id_hash_encoded(""), std::invalid_argument);
  CHECK_THROWS_AS(argon2id_hash_encoded(std::string(kMaxPasswordBytes + 1, 'x')), std::invalid_argument);
  const std::string longest(kMaxPasswordBytes, 'x');
  CHECK(verify_password(longest, argon2id_hash_encoded(longest)));
  CHECK_FALSE(verify_password(std::string(kMaxPasswordBytes + 1, 'x'), argon2id_hash_encoded(longest)));
  CHECK_FALSE(verify_password("", argon2id_hash_encoded("x")));
}

TEST_CASE("password verification answers false for malformed or hostile encodings") {
  const std::string good = argon2id_hash_encoded("pw");
  const std::string tail = good.substr(good.find("$", std::string_view("$argon2id$v=19$m=").size()));
  for (const std::string& bad : {std::string(), std::string("garbage"), good.substr(0, good.size() - 5),
                                 "$argon2i$v=19$m=19456,t=2,p=1" + tail, "$argon2id$v=16$m=19456,t=2,p=1" + tail,
                                 "$argon2id$v=19$m=19456,t=2" + tail, "$argon2id$v=19$m=,t=2,p=1" + tail,
                                 "$argon2id$v=19$m=4194304,t=2,p=1" + tail, "$argon2id$v=19$m=19456,t=1000,p=1" + tail,
                                 good + "$extra", std::string(good).insert(10, 1, '\0')})
    CHECK_FALSE(verify_password("pw", bad));
  CHECK(verify_password("pw", good));
}

TEST_CASE("hashes with other parameters still verify but ask for a rehash") {
  // As an older release with weaker parameters would have stored it.
  const std::string salt = "0123456789abcdef";
  char older[128] = {};
  REQUIRE(::argon2id_hash_encoded(3, 8192, 1, "pw", 2, salt.data(), salt.size(), 32, older, sizeof older) == ARGON2_OK);
  CHECK(std::string_view(older).starts_with("$argon2id$v=19$m=8192,t=3,p=1$"));
  CHECK(verify_password("pw", older));
  CHECK_FALSE(verify_password("pW", older));
  CHECK(password_needs_rehash(older));
  CHECK(password_needs_rehash("not a hash"));
}
