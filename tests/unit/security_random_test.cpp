// Random bytes, tokens, token hashes and strict base64url: canonical encodings only.
#include <doctest/doctest.h>

#include <set>

#include "pganalytics/security/random.hpp"

using namespace pga::security;

TEST_CASE("base64url encodes the RFC 4648 vectors without padding") {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""}, {"f", "Zg"}, {"fo", "Zm8"}, {"foo", "Zm9v"}, {"foob", "Zm9vYg"}, {"fooba", "Zm9vYmE"}, {"foobar", "Zm9vYmFy"}};
  for (const auto& [plain, encoded] : vectors) {
    CHECK(base64url_encode(plain) == encoded);
    CHECK(base64url_decode(encoded) == std::string(plain));
  }
  CHECK(base64url_encode("\xfb\xff") == "-_8");
  CHECK(base64url_decode("-_8") == std::string("\xfb\xff"));
}

TEST_CASE("base64url round-trips every length and byte value") {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  for (std::size_t n = 0; n <= all.size(); n += 7) {
    const std::string bytes = all.substr(0, n);
    CHECK(base64url_decode(base64url_encode(bytes)) == bytes);
  }
  const std::string random = random_bytes(100);
  CHECK(base64url_decode(base64url_encode(random)) == random);
}

TEST_CASE("base64url decoding refuses everything but the one canonical form") {
  for (std::string_view bad : {"Zg==", "Zg=", "Zm8=", "Z", "Zm9vY", "Zh", "Zm9", "Zm+v", "Zm/v", " Zm9v", "Zm9v\n",
                               "Zm9v ", "Zm.v", "Zm9v\xff"})
    CHECK_MESSAGE(!base64url_decode(bad), bad);
  CHECK(!base64url_decode(std::string_view("Zm\0v", 4)));
  // "Zh" and "Zm9" leave non-zero unused bits; the canonical forms of the same bytes decode.
  CHECK(base64url_decode("Zg") == std::string("f"));
  CHECK(base64url_decode("Zm8") == std::string("fo"));
}

TEST_CASE("random bytes have the requested size and differ between calls") {
  CHECK(random_bytes(0).empty());
  CHECK(random_bytes(32).size() == 32);
  CHECK(random_bytes(32) != random_bytes(32));
}

TEST_CASE("opaque tokens carry the prefix and 256 random bits") {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    const std::string token = new_opaque_token("pga_enr_");
    REQUIRE(token.starts_with("pga_enr_"));
    const auto body = base64url_decode(std::string_view(token).substr(8));
    REQUIRE(body);
    CHECK(body->size() == 32);
    CHECK(token.size() == 8 + 43);
    seen.insert(token);
  }
  CHECK(seen.size() == 20);
}

TEST_CASE("token hashes are raw SHA-256") {
  const std::string digest = token_hash("abc");
  CHECK(digest.size() == 32);
  CHECK(hex(digest) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(token_hash("")) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(token_hash("pga_ref_a") != token_hash("pga_ref_b"));
}

TEST_CASE("hex is lowercase and constant_time_equal compares exactly") {
  CHECK(hex(std::string("\x00\x0f\xa0\xff", 4)) == "000fa0ff");
  CHECK(hex("") == "");
  CHECK(constant_time_equal("secret", "secret"));
  CHECK_FALSE(constant_time_equal("secret", "secreT"));
  CHECK_FALSE(constant_time_equal("secret", "secret2"));
  CHECK_FALSE(constant_time_equal("", "x"));
  CHECK(constant_time_equal("", ""));
}
