// A renewal's key and certificate swap, interrupted at each step: the agent always starts with a
// key that matches its certificate, the new pair wherever it was complete.
#include <doctest/doctest.h>

#include "pganalytics/agent/key_pair_files.hpp"
#include "pganalytics/security/ca.hpp"
#include "temp_dir.hpp"

using namespace pga;
namespace fs = std::filesystem;

namespace {

struct Pair {
  std::string key;
  std::string certificate;
};

Pair issue(const security::CertificateAuthority& ca) {
  Pair pair{security::generate_ec_p256_private_key_pem(), ""};
  pair.certificate = ca.sign_client_csr(security::make_csr(pair.key, "host"), "0f8c2d1e-0000-4000-8000-000000000001",
                                        std::chrono::hours(1))
                         .value();
  return pair;
}

void put(const fs::path& path, const std::string& text) {
  agent::write_file_atomically(path, text, fs::perms::owner_read | fs::perms::owner_write);
}

// Which pair the state directory holds now: "old", "new" or "mismatch".
std::string installed(const agent::StateFiles& files, const Pair& old_pair, const Pair& new_pair) {
  const auto key = agent::read_text_file(files.key());
  const auto certificate = agent::read_text_file(files.certificate());
  if (!security::key_matches_certificate(key, certificate)) return "mismatch";
  if (key == old_pair.key && certificate == old_pair.certificate) return "old";
  if (key == new_pair.key && certificate == new_pair.certificate) return "new";
  return "other";
}

}  // namespace

TEST_CASE("key pair install: every interruption ends in a matching pair") {
  const auto ca = security::CertificateAuthority::create("test CA", std::chrono::hours(24));
  const auto old_pair = issue(ca);
  const auto new_pair = issue(ca);
  CHECK_FALSE(security::key_matches_certificate(old_pair.key, new_pair.certificate));
  test::TempDir dir;
  const agent::StateFiles files{dir.path};
  auto start_with_old = [&] {
    put(files.key(), old_pair.key);
    put(files.certificate(), old_pair.certificate);
  };
  const auto new_key = fs::path(files.key().string() + ".new");
  const auto new_certificate = fs::path(files.certificate().string() + ".new");

  SUBCASE("uninterrupted") {
    start_with_old();
    agent::install_key_pair(files, new_pair.key, new_pair.certificate);
    CHECK(installed(files, old_pair, new_pair) == "new");
  }
  SUBCASE("crash after both new files were written") {
    start_with_old();
    put(new_key, new_pair.key);
    put(new_certificate, new_pair.certificate);
    agent::finish_key_pair_install(files);
    CHECK(installed(files, old_pair, new_pair) == "new");
  }
  SUBCASE("crash after the key was moved into place") {
    put(files.key(), new_pair.key);
    put(files.certificate(), old_pair.certificate);
    put(new_certificate, new_pair.certificate);
    agent::finish_key_pair_install(files);
    CHECK(installed(files, old_pair, new_pair) == "new");
  }
  SUBCASE("crash before the new certificate was written") {
    start_with_old();
    put(new_key, new_pair.key);
    agent::finish_key_pair_install(files);
    CHECK(installed(files, old_pair, new_pair) == "old");
  }
  SUBCASE("nothing pending") {
    start_with_old();
    agent::finish_key_pair_install(files);
    CHECK(installed(files, old_pair, new_pair) == "old");
  }
  CHECK_FALSE(fs::exists(new_key));
  CHECK_FALSE(fs::exists(new_certificate));
}
