// The files an enrolled agent keeps in state_dir (CONTRACT §3): agent.key (0600, never leaves
// the host), agent.crt, ca.crt and credentials.json (0600). Written atomically.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

namespace pga::agent {

struct Credentials {
  std::string collector_id;
  std::string access_token;
  std::string refresh_token;
  std::string server_url;
};

struct StateFiles {
  std::filesystem::path dir;
  std::filesystem::path key() const { return dir / "agent.key"; }
  std::filesystem::path certificate() const { return dir / "agent.crt"; }
  std::filesystem::path ca() const { return dir / "ca.crt"; }
  std::filesystem::path credentials() const { return dir / "credentials.json"; }
};

// Writes `content` to `path` through a temporary file, fsync and rename, with `mode`.
void write_file_atomically(const std::filesystem::path& path, const std::string& content, std::filesystem::perms mode);
std::string read_text_file(const std::filesystem::path& path);

void save_credentials(const StateFiles& files, const Credentials& credentials);
std::optional<Credentials> load_credentials(const StateFiles& files);  // nullopt when not enrolled

}  // namespace pga::agent
