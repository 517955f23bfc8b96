// Secret boxes (AES-256-GCM) and the master key file: round trip, tamper detection, file modes.
#include "temp_dir.hpp"
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "pganalytics/security/random.hpp"
#include "pganalytics/security/secret_box.hpp"

using namespace pga::security;
namespace fs = std::filesystem;

namespace {

using pga::test::TempDir;


unsigned mode_of(const fs::path& path) {
  struct stat status {};
  REQUIRE(::stat(path.c_str(), &status) == 0);
  return status.st_mode & 07777;
}

void write_file(const fs::path& path, std::string_view content, fs::perms perms) {
  std::ofstream(path, std::ios::binary) << content;
  fs::permissions(path, perms);
}

}  // namespace

TEST_CASE("a sealed secret opens with the same key and context") {
  const std::string key = random_bytes(kMasterKeyBytes);
  const std::string secret = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI...\n";
  const std::string box = seal(key, secret, "jwt-key:k1");
  CHECK(open(key, box, "jwt-key:k1") == secret);
  const auto raw = base64url_decode(box);
  REQUIRE(raw);
  CHECK(raw->size() == 1 + 12 + secret.size() + 16);
  CHECK((*raw)[0] == '\x01');
  CHECK(raw->find(secret) == std::string::npos);
  CHECK(seal(key, secret, "jwt-key:k1") != box);  // fresh nonce every time
  CHECK(open(key, seal(key, ""), "") == std::string());
  CHECK(open(key, seal(key, std::string("\0\1\2", 3))) == std::string("\0\1\2", 3));
}

TEST_CASE("any change, another key or another context fails to open") {
  const std::string key = random_bytes(kMasterKeyBytes);
  const std::string box = seal(key, "the CA private key", "ca-key");
  REQUIRE(open(key, box, "ca-key"));
  CHECK_FALSE(open(key, box, "jwt-key:k1"));
  CHECK_FALSE(open(key, box));
  CHECK_FALSE(open(random_bytes(kMasterKeyBytes), box, "ca-key"));

  const std::string raw = *base64url_decode(box);
  for (std::size_t i = 0; i < raw.size(); ++i) {
    std::string changed = raw;
    changed[i] = static_cast<char>(changed[i] ^ 0x01);
    CHECK_MESSAGE(!open(key, base64url_encode(changed), "ca-key"), "byte ", i);
  }
  CHECK_FALSE(open(key, base64url_encode(raw.substr(0, raw.size() - 1)), "ca-key"));
  CHECK_FALSE(open(key, base64url_encode(raw.substr(0, 28)), "ca-key"));
  CHECK_FALSE(open(key, box + "=", "ca-key"));
  CHECK_FALSE(open(key, "", "ca-key"));
}

TEST_CASE("master keys must be 32 bytes") {
  CHECK_THROWS_AS(seal(random_bytes(16), "x"), std::invalid_argument);
  CHECK_THROWS_AS(open(random_bytes(33), seal(random_bytes(32), "x")), std::invalid_argument);
}

TEST_CASE("the master key file is created once, 32 bytes, mode 0600") {
  const TempDir dir;
  const fs::path file = dir.path / "master.key";
  const std::string key = load_or_create_master_key(file);
  CHECK(key.size() == kMasterKeyBytes);
  CHECK(fs::file_size(file) == kMasterKeyBytes);
  CHECK(mode_of(file) == 0600);
  CHECK(load_or_create_master_key(file) == key);
  CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator()) == 1);  // no temporaries left

  // A second replica with a copy of the file opens what the first sealed.
  const fs::path copy = dir.path / "copy.key";
  fs::copy_file(file, copy);
  fs::permissions(copy, fs::perms::owner_read);
  CHECK(open(load_or_create_master_key(copy), seal(key, "shared")) == "shared");
}

TEST_CASE("a master key file that is exposed or the wrong size is refused") {
  const TempDir dir;
  const fs::path readable = dir.path / "readable.key";
  write_file(readable, random_bytes(32), fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  CHECK_THROWS_WITH_AS(load_or_create_master_key(readable),
                       doctest::Contains("must not be accessible to group or others"), std::runtime_error);
  const fs::path world = dir.path / "world.key";
  write_file(world, random_bytes(32), fs::perms::owner_read | fs::perms::others_read);
  CHECK_THROWS_AS(load_or_create_master_key(world), std::runtime_error);

  const fs::path short_key = dir.path / "short.key";
  write_file(short_key, random_bytes(31), fs::perms::owner_read | fs::perms::owner_write);
  CHECK_THROWS_WITH_AS(load_or_create_master_key(short_key), doctest::Contains("holds 31 bytes"), std::runtime_error);
  const fs::path long_key = dir.path / "long.key";
  write_file(long_key, random_bytes(33) + "\n", fs::perms::owner_read | fs::perms::owner_write);
  CHECK_THROWS_AS(load_or_create_master_key(long_key), std::runtime_error);

  CHECK_THROWS_WITH_AS(load_or_create_master_key(dir.path), doctest::Contains("not a regular file"),
                       std::runtime_error);
  CHECK_THROWS_AS(load_or_create_master_key(dir.path / "missing-dir" / "master.key"), std::runtime_error);
}
