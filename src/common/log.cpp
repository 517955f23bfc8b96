// Writes one line per event to stderr, as text or JSON, under a mutex so lines never interleave.
#include "pganalytics/common/log.hpp"

#include "pganalytics/common/time_format.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <regex>

namespace pga::log {
namespace {

std::atomic<Level> g_min_level{Level::Info};
std::atomic<Format> g_format{Format::Text};
std::mutex g_mutex;

std::string_view level_name(Level level) {
  switch (level) {
    case Level::Debug: return "debug";
    case Level::Info: return "info";
    case Level::Warn: return "warn";
    case Level::Error: return "error";
  }
  return "info";
}

}  // namespace

std::optional<Level> parse_level(std::string_view name) {
  for (auto level : {Level::Debug, Level::Info, Level::Warn, Level::Error})
    if (level_name(level) == name) return level;
  return std::nullopt;
}

void configure(Level min_level, Format format) {
  g_min_level = min_level;
  g_format = format;
}

void set_level(Level min_level) { g_min_level = min_level; }

bool enabled(Level level) { return level >= g_min_level.load(); }

void write(Level level, std::string_view message) {
  const auto now = rfc3339_utc(std::chrono::system_clock::now());
  std::string line;
  if (g_format.load() == Format::Json) {
    line = fmt::format(R"({{"ts":"{}","level":"{}","msg":{}}})", now, level_name(level),
                       boost::json::serialize(boost::json::string(message)));
  } else {
    line = fmt::format("{} {:<5} {}", now, level_name(level), message);
  }
  line.push_back('\n');
  std::lock_guard lock(g_mutex);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

std::string redact(std::string_view text) {
  static const std::regex conninfo_password(R"((password\s*=\s*)('(?:[^'\\]|\\.)*'|[^\s&]+))", std::regex::icase);
  static const std::regex url_password(R"(([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]*@)", std::regex::icase);
  static const std::regex query_password(R"(([?&]password=)[^&\s]*)", std::regex::icase);
  std::string out(text);
  out = std::regex_replace(out, conninfo_password, "$1***");
  out = std::regex_replace(out, url_password, "$1***@");
  out = std::regex_replace(out, query_password, "$1***");
  return out;
}

}  // namespace pga::log
