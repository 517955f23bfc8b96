// The key and certificate swap of a certificate renewal, and its recovery after a crash.
#include "pganalytics/agent/key_pair_files.hpp"

#include <filesystem>

#include "pganalytics/common/log.hpp"
#include "pganalytics/security/ca.hpp"

namespace pga::agent {
namespace {

namespace fs = std::filesystem;
constexpr auto kKeyMode = fs::perms::owner_read | fs::perms::owner_write;
constexpr auto kCertificateMode = kKeyMode | fs::perms::group_read | fs::perms::others_read;

fs::path pending(const fs::path& path) {
  auto renamed = path;
  renamed += ".new";
  return renamed;
}

bool pair_matches(const fs::path& key, const fs::path& certificate) {
  return fs::exists(key) && fs::exists(certificate) &&
         security::key_matches_certificate(read_text_file(key), read_text_file(certificate));
}

}  // namespace

void install_key_pair(const StateFiles& files, const std::string& key_pem, const std::string& certificate_pem) {
  write_file_atomically(pending(files.key()), key_pem, kKeyMode);
  write_file_atomically(pending(files.certificate()), certificate_pem, kCertificateMode);
  fs::rename(pending(files.key()), files.key());
  fs::rename(pending(files.certificate()), files.certificate());
}

void finish_key_pair_install(const StateFiles& files) {
  const auto new_key = pending(files.key());
  const auto new_certificate = pending(files.certificate());
  if (!fs::exists(new_key) && !fs::exists(new_certificate)) return;
  if (pair_matches(new_key, new_certificate)) {
    fs::rename(new_key, files.key());
    fs::rename(new_certificate, files.certificate());
    log::info("finished installing the renewed client certificate");
  } else if (pair_matches(files.key(), new_certificate)) {
    fs::rename(new_certificate, files.certificate());
    log::info("finished installing the renewed client certificate");
  } else {
    log::warn("dropped an incomplete certificate renewal; the previous certificate stays in use");
  }
  std::error_code ignored;
  fs::remove(new_key, ignored);
  fs::remove(new_certificate, ignored);
}

}  // namespace pga::agent
