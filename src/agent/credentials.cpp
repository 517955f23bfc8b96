// Reading and writing the agent's enrolment files; secrets are created 0600 from the start so
// they are never readable by others, not even briefly.
#include "pganalytics/agent/credentials.hpp"

#include <boost/json.hpp>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <stdexcept>
#include <system_error>

namespace pga::agent {
namespace fs = std::filesystem;

void write_file_atomically(const fs::path& path, const std::string& content, fs::perms mode) {
  fs::create_directories(path.parent_path());
  auto temporary = path;
  temporary += ".tmp";
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, static_cast<mode_t>(mode));
  if (fd < 0) throw std::system_error(errno, std::generic_category(), "cannot write " + temporary.string());
  ::fchmod(fd, static_cast<mode_t>(mode));
  std::size_t written = 0;
  while (written < content.size()) {
    auto n = ::write(fd, content.data() + written, content.size() - written);
    if (n < 0) {
      ::close(fd);
      throw std::system_error(errno, std::generic_category(), "cannot write " + temporary.string());
    }
    written += static_cast<std::size_t>(n);
  }
  ::fsync(fd);
  ::close(fd);
  fs::rename(temporary, path);
}

std::string read_text_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void save_credentials(const StateFiles& files, const Credentials& c) {
  boost::json::object object{{"collector_id", c.collector_id},
                             {"access_token", c.access_token},
                             {"refresh_token", c.refresh_token},
                             {"server_url", c.server_url}};
  write_file_atomically(files.credentials(), boost::json::serialize(object) + "\n",
                        fs::perms::owner_read | fs::perms::owner_write);
}

std::optional<Credentials> load_credentials(const StateFiles& files) {
  if (!fs::exists(files.credentials())) return std::nullopt;
  boost::system::error_code ec;
  auto value = boost::json::parse(read_text_file(files.credentials()), ec);
  if (ec || !value.is_object()) throw std::runtime_error(files.credentials().string() + " is not valid JSON");
  auto text = [&](const char* key) {
    auto* field = value.as_object().if_contains(key);
    if (!field || !field->is_string()) throw std::runtime_error(files.credentials().string() + " lacks " + key);
    return std::string(field->as_string());
  };
  return Credentials{text("collector_id"), text("access_token"), text("refresh_token"), text("server_url")};
}

}  // namespace pga::agent
