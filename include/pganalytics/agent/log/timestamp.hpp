// Log timestamps to UTC: PostgreSQL prints them in log_timezone with the zone's abbreviation
// ("2024-03-01 12:00:00.123 CET"), so turning them into instants needs the abbreviation's offset.
#pragma once
#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace pga::agent::log {

// Abbreviations are not unique world-wide (IST, CST), so the table is filled from the server's
// own pg_timezone_abbrevs rather than guessed. Numeric zones ("+03", "-0330", "+05:30") and
// UTC, UCT, GMT and Z need no entry.
class TimeZones {
 public:
  TimeZones();
  void add(std::string abbreviation, std::chrono::seconds utc_offset);
  std::optional<std::chrono::seconds> offset(std::string_view zone) const;

 private:
  std::map<std::string, std::chrono::seconds, std::less<>> abbreviations_;
};

// "YYYY-MM-DD HH:MM:SS[.fff] ZONE" (%t, %m, csvlog, jsonlog); nullopt when malformed or the
// zone is unknown.
std::optional<std::chrono::system_clock::time_point> parse_log_time(std::string_view text,
                                                                    const TimeZones& zones);
// "1700000000.123" (%n).
std::optional<std::chrono::system_clock::time_point> parse_epoch(std::string_view text);

}  // namespace pga::agent::log
