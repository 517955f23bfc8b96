// Writes one line per event to stderr, as text or JSON, under a mutex so lines never interleave.
// Messages carry text from the network (collector and family names, refusal reasons): in text
// lines every control character, backslash and invalid UTF-8 byte becomes a visible escape, so
// no message can end its line, forge another or send escape sequences to a terminal.
#include "pganalytics/common/log.hpp"

#include "pganalytics/common/time_format.hpp"
#include "pganalytics/common/utf8.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/string.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
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

// C1 controls (U+0080-U+009F: CSI is one), line and paragraph separators, and the bidirectional
// overrides and isolates that reorder what a reader sees.
bool invisible(std::uint32_t code_point) {
  return (code_point >= 0x80 && code_point <= 0x9F) || code_point == 0x2028 || code_point == 0x2029 ||
         (code_point >= 0x202A && code_point <= 0x202E) || (code_point >= 0x2066 && code_point <= 0x2069);
}

std::uint32_t decode(std::string_view text, std::size_t at, std::size_t length) {
  static constexpr unsigned char kLeadMask[] = {0, 0x7F, 0x1F, 0x0F, 0x07};
  std::uint32_t code_point = static_cast<unsigned char>(text[at]) & kLeadMask[length];
  for (std::size_t i = 1; i < length; ++i) code_point = (code_point << 6) | (static_cast<unsigned char>(text[at + i]) & 0x3F);
  return code_point;
}

}  // namespace

std::string valid_utf8_or_escaped(std::string_view text) {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t length = utf8_sequence_length(text, i);
    if (length == 0) return escape_text(text);
    i += length;
  }
  return std::string(text);
}

std::string escape_text(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    const std::size_t length = utf8_sequence_length(text, i);
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F || length == 0) {
      out += fmt::format("\\x{:02x}", c);
    } else if (length > 1 && invisible(decode(text, i, length))) {
      out += fmt::format("\\u{{{:04x}}}", decode(text, i, length));
    } else {
      out.append(text.substr(i, length));
    }
    i += std::max<std::size_t>(1, c < 0x80 ? 1 : length);
  }
  return out;
}

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
    // JSON escapes control characters itself; invalid UTF-8 would make the line invalid JSON.
    line = fmt::format(R"({{"ts":"{}","level":"{}","msg":{}}})", now, level_name(level),
                       boost::json::serialize(boost::json::string(valid_utf8_or_escaped(message))));
  } else {
    line = fmt::format("{} {:<5} {}", now, level_name(level), escape_text(message));
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
