// Locating the current log file: the server's own current_logfiles first (exact, PostgreSQL 10+),
// else the newest file whose name fits the log_filename pattern, by modification time then name.
#include "pganalytics/agent/log/log_files.hpp"

#include <fstream>
#include <tuple>

namespace pga::agent::log {
namespace {

namespace fs = std::filesystem;

bool digit(char c) { return c >= '0' && c <= '9'; }
bool letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Composite escapes spelled out, so the matcher only knows single fields.
std::string expand(std::string_view pattern) {
  std::string out;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] != '%' || i + 1 == pattern.size()) {
      out += pattern[i];
      continue;
    }
    switch (char e = pattern[++i]) {
      case 'F': out += "%Y-%m-%d"; break;
      case 'T': out += "%H:%M:%S"; break;
      case 'R': out += "%H:%M"; break;
      case 'D': out += "%m/%d/%y"; break;
      default: out += '%'; out += e;
    }
  }
  return out;
}

struct Field {
  bool (*accept)(char);
  std::size_t min, max;
};

Field field_of(char escape) {
  switch (escape) {
    case 'Y': case 'G': return {digit, 4, 4};
    case 'm': case 'd': case 'H': case 'M': case 'S': case 'y': case 'C': case 'I':
    case 'U': case 'W': case 'V': case 'g':
      return {digit, 2, 2};
    case 'j': return {digit, 3, 3};
    case 'u': case 'w': return {digit, 1, 1};
    case 'e': case 'k': case 'l': return {[](char c) { return digit(c) || c == ' '; }, 2, 2};
    case 'a': case 'b': case 'h': return {letter, 3, 3};
    case 'p': return {letter, 2, 2};
    case 'A': case 'B': case 'Z': return {letter, 1, 32};
    case 's': return {digit, 1, 20};
    case 'z': return {[](char c) { return digit(c) || c == '+' || c == '-'; }, 5, 5};
    default: return {[](char c) { return c != '/'; }, 0, 255};
  }
}

bool match(std::string_view p, std::string_view name) {
  if (p.empty()) return name.empty();
  if (p[0] != '%' || p.size() == 1 || p[1] == '%') {
    std::size_t skip = p[0] == '%' && p.size() > 1 ? 2 : 1;
    return !name.empty() && name[0] == p[0] && match(p.substr(skip), name.substr(1));
  }
  Field f = field_of(p[1]);
  std::size_t n = 0;
  while (n < name.size() && n < f.max && f.accept(name[n])) ++n;
  for (std::size_t len = n + 1; len-- > f.min;)
    if (match(p.substr(2), name.substr(len))) return true;
  return false;
}

// The path current_logfiles names for this format, if the file is readable and says so.
std::optional<fs::path> from_current_logfiles(const fs::path& data_directory, Format format) {
  std::ifstream in(data_directory / "current_logfiles");
  std::string line;
  std::string_view want = format_name(format);
  while (std::getline(in, line)) {
    std::string_view l = line;
    if (!l.starts_with(want) || l.size() <= want.size() + 1 || l[want.size()] != ' ') continue;
    fs::path path{std::string{l.substr(want.size() + 1)}};
    return path.is_relative() ? data_directory / path : path;
  }
  return std::nullopt;
}

}  // namespace

std::string destination_filename(std::string_view log_filename, Format format) {
  if (format == Format::Stderr) return std::string{log_filename};
  std::string name{log_filename};
  if (name.size() > 4 && name.ends_with(".log")) name.resize(name.size() - 4);
  return name + (format == Format::Csv ? ".csv" : ".json");
}

bool matches_strftime(std::string_view pattern, std::string_view name) { return match(expand(pattern), name); }

std::optional<fs::path> find_current_log(const fs::path& log_directory, std::string_view log_filename,
                                         Format format, const fs::path& data_directory) {
  if (!data_directory.empty()) {
    std::error_code ec;
    if (auto path = from_current_logfiles(data_directory, format); path && fs::is_regular_file(*path, ec))
      return path;
  }
  fs::path dir = log_directory.is_relative() && !data_directory.empty() ? data_directory / log_directory : log_directory;
  std::string pattern = destination_filename(log_filename, format);
  std::optional<fs::path> best;
  std::tuple<fs::file_time_type, std::string> best_key;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec) || !matches_strftime(pattern, name)) continue;
    auto key = std::make_tuple(it->last_write_time(entry_ec), name);
    if (entry_ec) continue;
    if (!best || key > best_key) {
      best = it->path();
      best_key = std::move(key);
    }
  }
  return best;
}

}  // namespace pga::agent::log
