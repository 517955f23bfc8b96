// Log timestamps to UTC instants: a strict reader of PostgreSQL's "%Y-%m-%d %H:%M:%S[.fff] %Z"
// and of epoch seconds, with zone offsets from a table the caller fills from the server.
#include "pganalytics/agent/log/timestamp.hpp"

#include <charconv>
#include <cstdint>

namespace pga::agent::log {
namespace {

using std::chrono::seconds;

bool all_digits(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text)
    if (c < '0' || c > '9') return false;
  return true;
}

// Exactly `width` digits at `at`.
std::optional<int> fixed(std::string_view text, std::size_t at, std::size_t width) {
  if (at + width > text.size()) return std::nullopt;
  std::string_view digits = text.substr(at, width);
  if (!all_digits(digits)) return std::nullopt;
  int value = 0;
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

// "+03", "-0330", "+05:30", as PostgreSQL prints zones that have no abbreviation.
std::optional<seconds> numeric_offset(std::string_view zone) {
  if (zone.size() < 3 || (zone[0] != '+' && zone[0] != '-')) return std::nullopt;
  std::string_view rest = zone.substr(1);
  auto hours = fixed(rest, 0, 2);
  if (!hours) return std::nullopt;
  rest.remove_prefix(2);
  if (!rest.empty() && rest[0] == ':') rest.remove_prefix(1);
  int minutes = 0;
  if (!rest.empty()) {
    auto m = fixed(rest, 0, 2);
    if (!m || rest.size() != 2) return std::nullopt;
    minutes = *m;
  }
  seconds offset{*hours * 3600 + minutes * 60};
  return zone[0] == '-' ? -offset : offset;
}

// Milliseconds from the digits after the decimal point; more than three digits are cut.
std::chrono::milliseconds fraction_ms(std::string_view digits) {
  int ms = 0;
  for (std::size_t i = 0; i < 3; ++i) ms = ms * 10 + (i < digits.size() ? digits[i] - '0' : 0);
  return std::chrono::milliseconds{ms};
}

}  // namespace

TimeZones::TimeZones() {
  for (const char* utc : {"UTC", "UCT", "GMT", "Z"}) abbreviations_.emplace(utc, seconds{0});
}

void TimeZones::add(std::string abbreviation, seconds utc_offset) {
  abbreviations_.insert_or_assign(std::move(abbreviation), utc_offset);
}

std::optional<seconds> TimeZones::offset(std::string_view zone) const {
  if (auto it = abbreviations_.find(zone); it != abbreviations_.end()) return it->second;
  return numeric_offset(zone);
}

std::optional<std::chrono::system_clock::time_point> parse_log_time(std::string_view text,
                                                                    const TimeZones& zones) {
  // 0123456789012345678
  // YYYY-MM-DD HH:MM:SS
  auto year = fixed(text, 0, 4), month = fixed(text, 5, 2), day = fixed(text, 8, 2);
  auto hour = fixed(text, 11, 2), minute = fixed(text, 14, 2), second = fixed(text, 17, 2);
  if (!year || !month || !day || !hour || !minute || !second || text[4] != '-' || text[7] != '-' ||
      text[10] != ' ' || text[13] != ':' || text[16] != ':')
    return std::nullopt;
  std::string_view rest = text.substr(19);
  std::chrono::milliseconds ms{0};
  if (!rest.empty() && rest[0] == '.') {
    std::size_t n = 1;
    while (n < rest.size() && rest[n] >= '0' && rest[n] <= '9') ++n;
    if (n == 1) return std::nullopt;
    ms = fraction_ms(rest.substr(1, n - 1));
    rest.remove_prefix(n);
  }
  if (rest.size() < 2 || rest[0] != ' ') return std::nullopt;
  auto offset = zones.offset(rest.substr(1));
  if (!offset) return std::nullopt;
  std::chrono::year_month_day date{std::chrono::year{*year}, std::chrono::month(*month),
                                   std::chrono::day(*day)};
  if (!date.ok() || *hour > 23 || *minute > 59 || *second > 60) return std::nullopt;
  auto local = std::chrono::sys_days{date} + std::chrono::hours{*hour} +
               std::chrono::minutes{*minute} + seconds{*second} + ms;
  return std::chrono::time_point_cast<std::chrono::system_clock::duration>(local - *offset);
}

std::optional<std::chrono::system_clock::time_point> parse_epoch(std::string_view text) {
  std::size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view{} : text.substr(dot + 1);
  if (!all_digits(whole) || (dot != std::string_view::npos && !all_digits(frac))) return std::nullopt;
  std::int64_t secs = 0;
  if (std::from_chars(whole.data(), whole.data() + whole.size(), secs).ec != std::errc{})
    return std::nullopt;
  return std::chrono::system_clock::time_point{
      std::chrono::duration_cast<std::chrono::system_clock::duration>(seconds{secs} + fraction_ms(frac))};
}

}  // namespace pga::agent::log
