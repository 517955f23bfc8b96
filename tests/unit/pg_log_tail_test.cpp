// The log tail on real files: events come out as pg_log samples, a restart without commit()
// reads them again and one after commit() never does, backlogs spread over reads, storms fold.
#include "temp_dir.hpp"
#include <doctest/doctest.h>
#include <stdlib.h>

#include <fstream>

#include "pganalytics/agent/collectors/pg_log_tail.hpp"

using namespace pga::agent::collectors;
namespace fs = std::filesystem;

namespace {

using pga::test::TempDir;
using pga::test::append;


// n temp-file events of 1000 bytes each, one per second from 12:00:00.
std::string temp_files(int from, int n) {
  std::string s;
  for (int i = from; i < from + n; ++i)
    s += R"({"timestamp":"2024-03-01 12:00:)" + std::string(i < 10 ? "0" : "") + std::to_string(i) +
         R"(.000 UTC","error_severity":"LOG","message":"temporary file: path \"base/pgsql_tmp/t)" + std::to_string(i) +
         R"(.0\", size 1000"})"
         "\n";
  return s;
}

struct Fixture {
  TempDir dir;
  fs::path log = dir.path / "postgresql.json";
  fs::path state = dir.path / "state" / "main-jsonlog.json";

  Fixture() { append(log, temp_files(0, 1)); }  // history from before the agent

  LogTail tail(std::size_t rows_per_event = 1000, std::uint64_t max_bytes = 8 << 20) {
    LogSource source;
    source.format = pga::agent::log::Format::Json;
    source.file = log;
    LogTailOptions options;
    options.instance = "main";
    options.state_file = state;
    options.limits.rows_per_event = rows_per_event;
    options.max_bytes_per_poll = max_bytes;
    return LogTail(source, {}, std::move(options));
  }
};

std::size_t column(const pga::metrics::Sample& s, std::string_view name) {
  for (std::size_t i = 0; i < s.columns.size(); ++i)
    if (s.columns[i] == name) return i;
  FAIL("no column " << name);
  return 0;
}

// Events the samples stand for (folded rows count their occurrences) and their temp bytes.
std::pair<std::int64_t, std::int64_t> events_and_bytes(const std::vector<pga::metrics::Sample>& samples) {
  std::int64_t events = 0, bytes = 0;
  for (const auto& s : samples)
    for (const auto& row : s.rows) {
      CHECK(std::get<std::string>(row[column(s, "event")]) == "temp_file");
      CHECK(s.instance == "main");
      events += std::get<std::int64_t>(row[column(s, "occurrences")]);
      bytes += std::get<std::int64_t>(row[column(s, "temp_file_bytes")]);
    }
  return {events, bytes};
}

const auto now = std::chrono::system_clock::now();

}  // namespace

TEST_CASE("events read but never committed are read again after a restart; committed ones never") {
  Fixture f;
  {
    auto first = f.tail();
    CHECK(first.read(now).samples.empty());  // starts at the end: history is not sent
    CHECK(first.commit().value() == 0);
    append(f.log, temp_files(1, 3));
    auto read = first.read(now);
    CHECK(events_and_bytes(read.samples) == std::pair<std::int64_t, std::int64_t>{3, 3000});
    CHECK(read.samples.front().at == std::chrono::sys_days{std::chrono::March / 1 / 2024} + std::chrono::hours(12) +
                                         std::chrono::seconds(1));
    CHECK(first.uncommitted());
  }  // a crash before the batch reached the spool
  auto second = f.tail();
  CHECK(events_and_bytes(second.read(now).samples).first == 3);
  CHECK(second.commit().value() == 0);
  CHECK_FALSE(second.uncommitted());
  append(f.log, temp_files(4, 2));
  CHECK(events_and_bytes(second.read(now).samples).first == 2);
  CHECK(second.commit().value() == 0);

  auto third = f.tail();
  CHECK(third.read(now).samples.empty());
  CHECK(third.file() == f.log);
}

TEST_CASE("a backlog larger than one read's budget continues at the next read") {
  Fixture f;
  auto tail = f.tail(1000, 300);
  tail.read(now);
  append(f.log, temp_files(1, 20));
  std::int64_t events = 0;
  int reads = 0;
  for (bool more = true; more; ++reads) {
    auto read = tail.read(now);
    events += events_and_bytes(read.samples).first;
    more = read.poll.more;
  }
  CHECK(reads > 5);
  CHECK(events == 20);
}

TEST_CASE("beyond log_rows_per_event, events fold into counted rows with summed figures") {
  Fixture f;
  auto tail = f.tail(2);
  tail.read(now);
  append(f.log, temp_files(1, 7));
  auto samples = tail.read(now).samples;
  std::size_t rows = 0;
  for (const auto& s : samples) rows += s.rows.size();
  CHECK(rows == 3);  // two kept, the rest one folded row (their paths normalise alike)
  CHECK(events_and_bytes(samples) == std::pair<std::int64_t, std::int64_t>{7, 7000});
}
