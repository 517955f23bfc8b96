// log_line_prefix parsing: every escape the stderr reader supports, padding, %q, names that
// contain the prefix's own separators, and log timestamps in zones other than UTC.
#include <doctest/doctest.h>

#include "pganalytics/agent/log/prefix.hpp"

using namespace pga::agent::log;
using namespace std::chrono;

namespace {

system_clock::time_point utc(int y, unsigned mo, unsigned d, int h, int mi, int s, int ms = 0) {
  return sys_days{year{y} / mo / d} + hours{h} + minutes{mi} + seconds{s} + milliseconds{ms};
}

struct Parsed {
  std::optional<LinePrefix::Line> line;
  LogEntry entry;
};

Parsed parse(std::string_view prefix, std::string_view line, const TimeZones& zones = {}) {
  Parsed p;
  p.line = LinePrefix{prefix}.parse(line, p.entry, zones);
  return p;
}

}  // namespace

TEST_CASE("the fixture's prefix splits session and background lines") {
  constexpr std::string_view prefix = "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ";
  auto p = parse(prefix,
                 "2026-11-25 22:11:26 UTC [7591]: [3-1] user=postgres,db=postgres,app=psql,client=[local] "
                 "ERROR:  division by zero");
  REQUIRE(p.line);
  CHECK(p.line->severity == "ERROR");
  CHECK(p.line->text == "division by zero");
  CHECK(p.entry.time == utc(2026, 11, 25, 22, 11, 26));
  CHECK(p.entry.pid == 7591);
  CHECK(p.entry.line_number == 3);
  CHECK(p.entry.user == "postgres");
  CHECK(p.entry.database == "postgres");
  CHECK(p.entry.application == "psql");
  CHECK(p.entry.remote_host == "[local]");

  auto bg = parse(prefix, "2026-11-25 22:11:27 UTC [7389]: [2-1] user=,db=,app=,client= LOG:  checkpoint complete: x");
  REQUIRE(bg.line);
  CHECK(bg.entry.user.empty());
  CHECK(bg.entry.application.empty());
  CHECK(bg.line->text == "checkpoint complete: x");

  auto unknown = parse(prefix,
                       "2026-11-25 22:11:25 UTC [7544]: [1-1] user=[unknown],db=[unknown],app=[unknown],client=[local] "
                       "LOG:  connection received: host=[local]");
  REQUIRE(unknown.line);
  CHECK(unknown.entry.user.empty());
  CHECK(unknown.entry.database.empty());
}

TEST_CASE("names containing the prefix's separators and severity-like text still split right") {
  auto p = parse("%m [%p] %u@%d app=%a ",
                 "2024-05-06 07:08:09.123 UTC [42] we@ird@db.x app=my app, LOG:  x ERROR:  not the severity");
  REQUIRE(p.line);
  CHECK(p.line->severity == "LOG");
  CHECK(p.line->text == "x ERROR:  not the severity");
  CHECK(p.entry.user == "we");
  CHECK(p.entry.database == "ird@db.x");
  CHECK(p.entry.application == "my app,");
  CHECK(p.entry.time == utc(2024, 5, 6, 7, 8, 9, 123));
}

TEST_CASE("%q ends the prefix for background processes") {
  constexpr std::string_view prefix = "%m [%p] %q%u@%d/%a ";
  auto session = parse(prefix, "2024-05-06 07:08:09.001 UTC [10] alice@shop/psql STATEMENT:  select 1");
  REQUIRE(session.line);
  CHECK(session.line->severity == "STATEMENT");
  CHECK(session.entry.user == "alice");
  CHECK(session.entry.application == "psql");
  auto background = parse(prefix, "2024-05-06 07:08:09.001 UTC [11] LOG:  checkpoint starting: time");
  REQUIRE(background.line);
  CHECK(background.entry.pid == 11);
  CHECK(background.entry.user.empty());
  CHECK(background.line->text == "checkpoint starting: time");
}

TEST_CASE("padding, sqlstate, epoch, remote host with port, session id, vxid, xid, query id, backend type") {
  constexpr std::string_view prefix = "%n|%-8u|%6p|%e|%r|%c|%v|%x|%Q|%b|%i|%P|%s|%% ";
  auto p = parse(prefix,
                 "1714979289.250|bob     |    77|40P01|10.1.2.3(5432)|663893d9.4d|3/17|901|-4211|autovacuum worker|"
                 "idle in transaction||2024-05-06 07:00:00 UTC|% ERROR:  deadlock detected");
  REQUIRE(p.line);
  CHECK(p.entry.time == utc(2024, 5, 6, 7, 8, 9, 250));
  CHECK(p.entry.user == "bob");
  CHECK(p.entry.pid == 77);
  CHECK(p.entry.sqlstate == "40P01");
  CHECK(p.entry.remote_host == "10.1.2.3");
  CHECK(p.entry.session_id == "663893d9.4d");
  CHECK(p.entry.backend_type == "autovacuum worker");
  CHECK(p.line->text == "deadlock detected");
}

TEST_CASE("an empty prefix and lines that are not entries") {
  auto bare = parse("", "WARNING:  there is no transaction in progress");
  REQUIRE(bare.line);
  CHECK(bare.line->severity == "WARNING");
  CHECK_FALSE(parse("%t [%p] ", "\tpages: 0 removed").line);
  CHECK_FALSE(parse("%t [%p] ", "cp: cannot stat 'x': No such file or directory").line);
  CHECK_FALSE(parse("%t [%p] ", "2024-05-06 07:08:09 UTC [x] LOG:  pid is not a number").line);
  CHECK(is_primary_severity("FATAL"));
  CHECK(is_secondary_severity("CONTEXT"));
  CHECK_FALSE(is_primary_severity("DETAIL"));
}

TEST_CASE("log timestamps in other zones") {
  TimeZones zones;
  CHECK(parse_log_time("2024-01-02 03:04:05.678 UTC", zones) == utc(2024, 1, 2, 3, 4, 5, 678));
  CHECK(parse_log_time("2024-01-02 03:04:05 +03", zones) == utc(2024, 1, 2, 0, 4, 5));
  CHECK(parse_log_time("2024-01-02 03:04:05 -0330", zones) == utc(2024, 1, 2, 6, 34, 5));
  CHECK(parse_log_time("2024-01-02 03:04:05 +05:30", zones) == utc(2024, 1, 1, 21, 34, 5));
  CHECK_FALSE(parse_log_time("2024-01-02 03:04:05 CET", zones));
  zones.add("CET", hours{1});
  CHECK(parse_log_time("2024-01-02 03:04:05 CET", zones) == utc(2024, 1, 2, 2, 4, 5));
  CHECK_FALSE(parse_log_time("2024-02-30 03:04:05 UTC", zones));
  CHECK_FALSE(parse_log_time("2024-01-02T03:04:05 UTC", zones));
  CHECK_FALSE(parse_log_time("2024-01-02 03:04:05", zones));
  CHECK(parse_epoch("1714979289.25") == utc(2024, 5, 6, 7, 8, 9, 250));
  CHECK_FALSE(parse_epoch("17149x"));

  auto p = parse("%m ", "2024-07-01 12:00:00.000 CEST LOG:  x", [] {
    TimeZones z;
    z.add("CEST", hours{2});
    return z;
  }());
  REQUIRE(p.line);
  CHECK(p.entry.time == utc(2024, 7, 1, 10, 0, 0));
}
