// The one logger: levels, text lines or JSON lines on stderr. Callers pass values that may hold
// secrets (conninfo, URLs) through redact() first; the logger never sees tokens or passwords.
#pragma once
#include <fmt/format.h>

#include <optional>
#include <string>
#include <string_view>

namespace pga::log {

enum class Level { Debug = 0, Info = 1, Warn = 2, Error = 3 };
enum class Format { Text, Json };

std::optional<Level> parse_level(std::string_view name);
void configure(Level min_level, Format format);
void set_level(Level min_level);
bool enabled(Level level);
void write(Level level, std::string_view message);

// `text` as one visible line: backslash, newline, CR and tab as \\ \n \r \t, other control
// characters and invalid UTF-8 bytes as \xHH, C1 controls, line separators and bidirectional
// controls as \u{HHHH}. Text lines pass every message through it.
std::string escape_text(std::string_view text);
// `text` if it is valid UTF-8, else escape_text(text): what JSON lines carry.
std::string valid_utf8_or_escaped(std::string_view text);

// Hides passwords in libpq conninfo strings and URLs: "password=x" and "user:x@" become "***".
std::string redact(std::string_view text);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::Debug)) write(Level::Debug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::Info)) write(Level::Info, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::Warn)) write(Level::Warn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::Error)) write(Level::Error, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace pga::log
