// RFC 3339 timestamps in, PostgreSQL-ready UTC text out. Parsing is strict so that every value
// the server passes on is one PostgreSQL accepts: a bad date is a 400, never a failed COPY.
#include <chrono>

#include "pganalytics/server/ingest.hpp"

namespace pga::server::ingest {

using namespace std::chrono;

namespace {

constexpr std::int64_t kMicrosPerSecond = 1'000'000;
// PostgreSQL has no year 0 in ISO notation; 10000 and later would need more than 4 digits.
constexpr std::int64_t micros_at(year y) {
  return std::int64_t{sys_days{y / January / 1}.time_since_epoch().count()} * 86'400 * kMicrosPerSecond;
}
constexpr std::int64_t kEarliestUs = micros_at(year{1});
constexpr std::int64_t kLatestUs = micros_at(year{10000}) - 1;

// Reads exactly `width` decimal digits at `pos`.
std::optional<int> digits(std::string_view text, std::size_t pos, std::size_t width) {
  if (pos + width > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = pos; i < pos + width; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

bool at(std::string_view text, std::size_t pos, char c) { return pos < text.size() && text[pos] == c; }

// ".123456789": microseconds, later digits ignored; advances `pos`. nullopt for "." alone.
std::optional<std::int64_t> fraction(std::string_view text, std::size_t& pos) {
  if (!at(text, pos, '.')) return 0;
  ++pos;
  std::int64_t micros = 0;
  std::size_t count = 0;
  for (; pos < text.size() && text[pos] >= '0' && text[pos] <= '9'; ++pos, ++count)
    if (count < 6) micros = micros * 10 + (text[pos] - '0');
  if (count == 0) return std::nullopt;
  for (; count < 6; ++count) micros *= 10;
  return micros;
}

// "Z" or "+hh:mm"/"-hh:mm" ending the text: seconds east of UTC.
std::optional<std::int64_t> offset(std::string_view text, std::size_t pos) {
  if (pos + 1 == text.size() && (text[pos] == 'Z' || text[pos] == 'z')) return 0;
  if (pos + 6 != text.size() || (text[pos] != '+' && text[pos] != '-') || text[pos + 3] != ':') return std::nullopt;
  auto hours = digits(text, pos + 1, 2);
  auto minutes = digits(text, pos + 4, 2);
  if (!hours || !minutes || *hours > 23 || *minutes > 59) return std::nullopt;
  const std::int64_t seconds = *hours * 3600 + *minutes * 60;
  return text[pos] == '-' ? -seconds : seconds;
}

}  // namespace

std::optional<std::int64_t> parse_rfc3339(std::string_view text) {
  auto y = digits(text, 0, 4), mo = digits(text, 5, 2), d = digits(text, 8, 2);
  auto h = digits(text, 11, 2), mi = digits(text, 14, 2), s = digits(text, 17, 2);
  if (!y || !mo || !d || !h || !mi || !s) return std::nullopt;
  const bool separators = at(text, 4, '-') && at(text, 7, '-') && at(text, 13, ':') && at(text, 16, ':') &&
                          (at(text, 10, 'T') || at(text, 10, 't') || at(text, 10, ' '));
  if (!separators) return std::nullopt;
  const year_month_day date{year{*y}, month{static_cast<unsigned>(*mo)}, day{static_cast<unsigned>(*d)}};
  // Second 60 is RFC 3339's leap second; like PostgreSQL, it counts as the next minute's 0.
  if (!date.ok() || *h > 23 || *mi > 59 || *s > 60) return std::nullopt;
  std::size_t pos = 19;
  auto micros = fraction(text, pos);
  if (!micros) return std::nullopt;
  auto east = offset(text, pos);
  if (!east) return std::nullopt;
  const std::int64_t seconds =
      std::int64_t{sys_days{date}.time_since_epoch().count()} * 86'400 + *h * 3600 + *mi * 60 + *s - *east;
  const std::int64_t result = seconds * kMicrosPerSecond + *micros;
  if (result < kEarliestUs || result > kLatestUs) return std::nullopt;
  return result;
}

namespace {

// Appends `value` as exactly `width` decimal digits (value < 10^width, not negative).
char* put_digits(char* out, std::int64_t value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10) out[i] = static_cast<char>('0' + value % 10);
  return out + width;
}

}  // namespace

std::string format_timestamp(std::int64_t unix_us) {
  const sys_time<microseconds> moment{microseconds{unix_us}};
  const auto midnight = floor<days>(moment);
  const year_month_day date{midnight};
  const hh_mm_ss<microseconds> time{moment - midnight};
  char text[29];  // "YYYY-MM-DD HH:MM:SS.ffffff+00"
  char* p = put_digits(text, static_cast<int>(date.year()), 4);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(date.month()), 2);
  *p++ = '-';
  p = put_digits(p, static_cast<unsigned>(date.day()), 2);
  *p++ = ' ';
  p = put_digits(p, time.hours().count(), 2);
  *p++ = ':';
  p = put_digits(p, time.minutes().count(), 2);
  *p++ = ':';
  p = put_digits(p, time.seconds().count(), 2);
  *p++ = '.';
  p = put_digits(p, time.subseconds().count(), 6);
  *p++ = '+';
  *p++ = '0';
  *p++ = '0';
  return std::string(text, p);
}

std::string format_day(std::int64_t unix_us) { return format_timestamp(unix_us).substr(0, 10); }

}  // namespace pga::server::ingest
