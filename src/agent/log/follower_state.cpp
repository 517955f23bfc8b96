// The follower's persisted position: a small JSON file replaced atomically (temp file, fsync,
// rename, directory fsync), so a crash leaves either the old position or the new one.
#include <fcntl.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <fstream>
#include <sstream>

#include "pganalytics/agent/log/follower.hpp"

namespace pga::agent::log {
namespace {

namespace json = boost::json;

std::error_code last_error() { return {errno, std::system_category()}; }

std::error_code write_all(int fd, const std::string& text) {
  for (std::size_t done = 0; done < text.size();) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return last_error();
    done += static_cast<std::size_t>(n);
  }
  return {};
}

std::error_code fsync_path(const std::filesystem::path& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return last_error();
  std::error_code ec = ::fsync(fd) == 0 ? std::error_code{} : last_error();
  ::close(fd);
  return ec;
}

std::error_code write_file_synced(const std::filesystem::path& path, const std::string& text) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return last_error();
  std::error_code ec = write_all(fd, text);
  if (!ec && ::fsync(fd) != 0) ec = last_error();
  if (::close(fd) != 0 && !ec) ec = last_error();
  return ec;
}

std::uint64_t number(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (!v) throw std::invalid_argument("missing key");
  return v->to_number<std::uint64_t>();
}

}  // namespace

std::optional<FollowerState> load_follower_state(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  json::error_code ec;
  json::value v = json::parse(text.str(), ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  const json::value* path = o.if_contains("path");
  if (!path || !path->is_string()) return std::nullopt;
  try {
    return FollowerState{std::string{path->get_string()},
                         {number(o, "device"), number(o, "inode")},
                         number(o, "offset"),
                         number(o, "head_size"),
                         number(o, "head_hash")};
  } catch (const std::exception&) {  // a missing key or a negative or fractional number
    return std::nullopt;
  }
}

std::error_code save_follower_state(const std::filesystem::path& file, const FollowerState& state) {
  json::object o;
  o["path"] = state.path.string();
  o["device"] = state.id.device;
  o["inode"] = state.id.inode;
  o["offset"] = state.offset;
  o["head_size"] = state.head_size;
  o["head_hash"] = state.head_hash;
  std::filesystem::path temp = file;
  temp += ".tmp";
  if (auto ec = write_file_synced(temp, json::serialize(o) + "\n")) return ec;
  if (::rename(temp.c_str(), file.c_str()) != 0) return last_error();
  std::filesystem::path dir = file.parent_path().empty() ? "." : file.parent_path();
  return fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

}  // namespace pga::agent::log
