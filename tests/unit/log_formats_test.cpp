// The three formats on real PostgreSQL 15 logs (stderr + csvlog + jsonlog of one server): same
// events and figures from each, whatever the chunking; plus hand-made PG 12 and 13 csvlog.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <sstream>

#include "pganalytics/agent/log/event.hpp"

using namespace pga::agent::log;
using namespace std::chrono;

namespace {

constexpr std::string_view kPrefix = "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ";

std::string fixture(const std::string& name) {
  std::ifstream in(std::string{PGA_SOURCE_DIR} + "/tests/fixtures/logs/" + name, std::ios::binary);
  REQUIRE(in);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

ReaderOptions options(Format format) {
  ReaderOptions o;
  o.format = format;
  o.line_prefix = kPrefix;
  return o;
}

std::vector<LogEntry> read_all(const ReaderOptions& o, std::string_view bytes, std::size_t chunk = SIZE_MAX) {
  std::vector<LogEntry> out;
  auto reader = make_reader(o);
  EntrySink sink = [&](LogEntry&& e) { out.push_back(std::move(e)); };
  for (std::size_t at = 0; at < bytes.size(); at += chunk) reader->feed(bytes.substr(at, chunk), sink);
  reader->flush(sink);
  CHECK(reader->unfinished_bytes() == 0);
  CHECK(reader->malformed() == 0);
  return out;
}

std::vector<LogEntry> pg15(Format format) {
  const char* file = format == Format::Stderr ? "pg15.log" : format == Format::Csv ? "pg15.csv" : "pg15.json";
  return read_all(options(format), fixture(file));
}

std::vector<LogEvent> events(const std::vector<LogEntry>& entries) {
  std::vector<LogEvent> out;
  for (const LogEntry& e : entries) out.push_back(classify(e));
  return out;
}

std::map<EventType, int> counts(const std::vector<LogEvent>& events) {
  std::map<EventType, int> n;
  for (const LogEvent& e : events) ++n[e.type];
  return n;
}

const LogEntry& entry_with(const std::vector<LogEntry>& entries, std::string_view message_start) {
  auto it = std::find_if(entries.begin(), entries.end(), [&](auto& e) { return e.message.starts_with(message_start); });
  REQUIRE(it != entries.end());
  return *it;
}

LogEvent event_with(const std::vector<LogEntry>& entries, std::string_view message_start) {
  return classify(entry_with(entries, message_start));
}

system_clock::time_point utc(int h, int m, int s, int ms = 0) {
  return sys_days{year{2026} / 11 / 25} + hours{h} + minutes{m} + seconds{s} + milliseconds{ms};
}

}  // namespace

TEST_CASE("stderr, csvlog and jsonlog of one PostgreSQL 15 server yield the same events") {
  auto from_stderr = counts(events(pg15(Format::Stderr)));
  auto from_csv = counts(events(pg15(Format::Csv)));
  auto from_json = counts(events(pg15(Format::Json)));
  CHECK(from_stderr == from_csv);
  CHECK(from_stderr == from_json);
  // Counted in the raw pg15.log with grep.
  CHECK(from_stderr[EventType::Checkpoint] == 3);
  CHECK(from_stderr[EventType::Autovacuum] == 5);
  CHECK(from_stderr[EventType::Autoanalyze] == 13);
  CHECK(from_stderr[EventType::SlowStatement] == 38);
  CHECK(from_stderr[EventType::LockWait] == 5);
  CHECK(from_stderr[EventType::Deadlock] == 1);
  CHECK(from_stderr[EventType::TempFile] == 5);
  CHECK(from_stderr[EventType::Connection] == 34);
  CHECK(from_stderr[EventType::Disconnection] == 16);
  CHECK(from_stderr[EventType::Error] == 4);
  CHECK(from_stderr[EventType::Other] == 13);
}

TEST_CASE("figures read off the raw PostgreSQL 15 files, equal in every format") {
  for (Format format : {Format::Stderr, Format::Csv, Format::Json}) {
    CAPTURE(format_name(format));
    auto entries = pg15(format);
    auto checkpoint = event_with(entries, "checkpoint complete: wrote 1754 buffers");
    CHECK(checkpoint.buffers_written == 1754);
    CHECK(checkpoint.write_ms == 15.0);
    CHECK(checkpoint.sync_ms == 15.0);
    CHECK(checkpoint.duration_ms == 34.0);
    CHECK(checkpoint.pid == 7389);
    CHECK(checkpoint.severity == "LOG");
    CHECK(checkpoint.sqlstate.empty());
    CHECK(checkpoint.message ==
          "checkpoint complete: wrote ? buffers (?%); ? WAL file(s) added, ? removed, ? recycled; write=? s, "
          "sync=? s, total=? s; sync files=?, longest=? s, average=? s; distance=? kB, estimate=? kB");

    auto vacuum = event_with(entries, "automatic vacuum of table \"postgres.public.pgbench_accounts\": index scans: 1");
    CHECK(vacuum.type == EventType::Autovacuum);
    CHECK(vacuum.relation == "postgres.public.pgbench_accounts");
    CHECK(vacuum.tuples_removed == 30000);
    CHECK(vacuum.pages_removed == 0);
    CHECK(vacuum.duration_ms == 50.0);

    auto analyze = event_with(entries, "automatic analyze of table \"template1.pg_catalog.pg_attribute\"");
    CHECK(analyze.relation == "template1.pg_catalog.pg_attribute");
    CHECK(analyze.duration_ms == 10.0);

    CHECK(event_with(entries, "temporary file: path \"base/pgsql_tmp/pgsql_tmp7583.0\"").temp_file_bytes == 1400000);
    CHECK(event_with(entries, "duration: 125.111 ms  statement: copy").duration_ms == 125.111);
    CHECK(event_with(entries, "process 7678 acquired ShareLock").duration_ms == 318.386);
    CHECK(event_with(entries, "process 7823 still waiting").duration_ms == 100.172);

    auto disconnection = event_with(entries, "disconnection: session time: 0:00:00.826");
    CHECK(disconnection.duration_ms == 826.0);
    CHECK(disconnection.user == "postgres");
    CHECK(disconnection.application == "psql");

    auto deadlock = event_with(entries, "deadlock detected");
    CHECK(deadlock.type == EventType::Deadlock);
    CHECK(deadlock.sqlstate == "40P01");
    CHECK(deadlock.severity == "ERROR");

    auto fatal = event_with(entries, "database \"nosuchdb\" does not exist");
    CHECK(fatal.type == EventType::Error);
    CHECK(fatal.severity == "FATAL");
    CHECK(fatal.database == "nosuchdb");
    CHECK(fatal.message == "database ? does not exist");
    // stderr without %e cannot know it; csvlog and jsonlog say it.
    CHECK(fatal.sqlstate == (format == Format::Stderr ? "" : "3D000"));

    auto& connection = entry_with(entries, "connection received");
    CHECK(connection.user.empty());
    CHECK(connection.remote_host == "[local]");
  }
}

TEST_CASE("times: seconds from %t, milliseconds from csvlog and jsonlog") {
  auto stderr_checkpoint = entry_with(pg15(Format::Stderr), "checkpoint complete: wrote 1754");
  auto csv_checkpoint = entry_with(pg15(Format::Csv), "checkpoint complete: wrote 1754");
  auto json_checkpoint = entry_with(pg15(Format::Json), "checkpoint complete: wrote 1754");
  CHECK(stderr_checkpoint.time == utc(22, 11, 27));
  CHECK(csv_checkpoint.time == utc(22, 11, 27, 874));
  CHECK(json_checkpoint.time == csv_checkpoint.time);
  CHECK(csv_checkpoint.backend_type == "checkpointer");
  CHECK(json_checkpoint.session_id == "6b075d05.1cdd");
}

TEST_CASE("stderr continuation lines join the entry they continue, like csvlog and jsonlog hold it") {
  auto from_stderr = pg15(Format::Stderr);
  auto from_json = pg15(Format::Json);
  for (std::string_view start : {"deadlock detected", "duration: 0.298 ms  statement: SELECT 'it''s', 42,",
                                 "automatic vacuum of table \"postgres.public.pgbench_accounts\": index scans: 1",
                                 "process 7678 still waiting"}) {
    CAPTURE(start);
    auto& s = entry_with(from_stderr, start);
    auto& j = entry_with(from_json, start);
    CHECK(s.message == j.message);
    CHECK(s.detail == j.detail);
    CHECK(s.hint == j.hint);
    CHECK(s.context == j.context);
    CHECK(s.statement == j.statement);
  }
  auto& deadlock = entry_with(from_stderr, "deadlock detected");
  CHECK(deadlock.detail.starts_with("Process 7690 waits for ShareLock on transaction 748; blocked by process 7678.\n"
                                    "Process 7678 waits for ShareLock"));
  CHECK(deadlock.hint == "See server log for query details.");
  CHECK(deadlock.statement.starts_with("BEGIN; UPDATE lk SET v=v+1 WHERE id=2;"));
  CHECK(entry_with(from_stderr, "duration: 0.298 ms").message == "duration: 0.298 ms  statement: SELECT 'it''s', 42,\n   0.5 AS half");
}

TEST_CASE("how the bytes are chunked does not change the entries") {
  for (auto [format, file] : {std::pair{Format::Stderr, "pg15.log"}, {Format::Csv, "pg15.csv"}, {Format::Json, "pg15.json"}}) {
    CAPTURE(file);
    std::string bytes = fixture(file);
    auto whole = read_all(options(format), bytes);
    for (std::size_t chunk : {1, 7, 4096}) {
      auto pieces = read_all(options(format), bytes, chunk);
      REQUIRE(pieces.size() == whole.size());
      for (std::size_t i = 0; i < whole.size(); ++i) {
        CHECK(pieces[i].message == whole[i].message);
        CHECK(pieces[i].statement == whole[i].statement);
        CHECK(pieces[i].time == whole[i].time);
      }
    }
  }
}

TEST_CASE("csvlog of PostgreSQL 12 (23 columns) and 13 (24 columns)") {
  auto pg12 = read_all(options(Format::Csv), fixture("pg12.csv"));
  REQUIRE(pg12.size() == 5);
  auto checkpoint = classify(pg12[0]);
  CHECK(checkpoint.type == EventType::Checkpoint);
  CHECK(checkpoint.buffers_written == 42);
  CHECK(checkpoint.write_ms == 4101.0);
  CHECK(checkpoint.sync_ms == 12.0);
  CHECK(checkpoint.duration_ms == 4130.0);
  CHECK(pg12[1].sqlstate == "22012");
  CHECK(pg12[1].remote_host == "10.0.0.5");
  CHECK(pg12[1].statement == "select 1/0");
  CHECK(pg12[1].application == "psql");
  CHECK(pg12[1].backend_type.empty());
  CHECK(pg12[2].message == "duration: 1523.456 ms  statement: select pg_sleep(1.5),\n  'multi-line \"quoted\" text'");
  CHECK(classify(pg12[2]).message == "duration: ? ms  statement: select pg_sleep(?),\n  ?");
  auto vacuum = classify(pg12[3]);
  CHECK(vacuum.relation == "shop.public.orders");
  CHECK(vacuum.tuples_removed == 1500);
  CHECK(vacuum.pages_removed == 12);
  CHECK(vacuum.duration_ms == 250.0);
  CHECK(classify(pg12[4]).duration_ms == 34750.0);

  auto pg13 = read_all(options(Format::Csv), fixture("pg13.csv"));
  REQUIRE(pg13.size() == 5);
  CHECK(classify(pg13[0]).type == EventType::Connection);
  CHECK(pg13[1].backend_type == "client backend");
  CHECK(pg13[1].application.empty());
  CHECK(classify(pg13[2]).temp_file_bytes == 73400320);
  CHECK(pg13[2].statement == "SELECT * FROM facts ORDER BY amount");
  auto deadlock = classify(pg13[3]);
  CHECK(deadlock.type == EventType::Deadlock);
  CHECK(deadlock.sqlstate == "40P01");
  CHECK(pg13[3].detail.find("\nProcess 4300 waits") != std::string::npos);
  CHECK(pg13[3].context == "while updating tuple (0,1) in relation \"facts\"");
  CHECK(pg13[3].remote_host == "127.0.0.1");
  auto analyze = classify(pg13[4]);
  CHECK(analyze.type == EventType::Autoanalyze);
  CHECK(analyze.relation == "dw.public.facts");
  CHECK(analyze.duration_ms == 1370.0);
}

TEST_CASE("jsonlog: unknown keys and nested values ignored, omitted keys empty, bad lines counted") {
  ReaderOptions o = options(Format::Json);
  std::vector<LogEntry> out;
  auto reader = make_reader(o);
  EntrySink sink = [&](LogEntry&& e) { out.push_back(std::move(e)); };
  reader->feed(R"({"timestamp":"2024-01-02 03:04:05.006 UTC","pid":12,"future_key":{"message":"no","n":[1,2]},)"
               R"("error_severity":"WARNING","message":"a\tb \u00e9 \"q\"","leader_pid":3,"x":null,"y":true,"z":1.5})"
               "\n\n  \n{not json}\n{\"message\":\"cut\n",
               sink);
  REQUIRE(out.size() == 1);
  CHECK(out[0].message == "a\tb \xC3\xA9 \"q\"");
  CHECK(out[0].severity == "WARNING");
  CHECK(out[0].pid == 12);
  CHECK(out[0].user.empty());
  CHECK_FALSE(out[0].line_number);
  CHECK(reader->malformed() == 2);
  CHECK(reader->unfinished_bytes() == 0);
}

TEST_CASE("unfinished bytes: what a restart must read again") {
  std::string line = "2026-11-25 22:11:26 UTC [1]: [1-1] user=,db=,app=,client= LOG:  one\n";
  std::vector<LogEntry> out;
  EntrySink sink = [&](LogEntry&& e) { out.push_back(std::move(e)); };
  auto stderr_reader = make_reader(options(Format::Stderr));
  stderr_reader->feed(line + line + "\tcontinued\n2026-11", sink);
  CHECK(out.size() == 1);  // the second entry may still grow
  CHECK(stderr_reader->unfinished_bytes() == line.size() + 11 + 7);
  stderr_reader->flush(sink);  // an unterminated line may still be a continuation: hold on
  CHECK(out.size() == 1);
  stderr_reader->feed("-25 22:11:26 UTC [1]: [2-1] user=,db=,app=,client= LOG:  two\n", sink);
  stderr_reader->flush(sink);
  REQUIRE(out.size() == 3);
  CHECK(out[1].message == "one\ncontinued");
  CHECK(stderr_reader->unfinished_bytes() == 0);

  auto csv = make_reader(options(Format::Csv));
  csv->feed("a,\"b\n", sink);
  CHECK(csv->unfinished_bytes() == 5);
  csv->feed("c\"\n", sink);
  CHECK(csv->malformed() == 1);  // two columns is no csvlog record
  CHECK(csv->unfinished_bytes() == 0);
}

TEST_CASE("a huge logged statement costs bounded memory and still counts") {
  ReaderOptions o = options(Format::Json);
  o.max_field_bytes = 100;
  std::string huge(1 << 20, 'x');
  std::vector<LogEntry> out;
  EntrySink sink = [&](LogEntry&& e) { out.push_back(std::move(e)); };
  make_reader(o)->feed(R"({"error_severity":"LOG","message":"duration: 5.5 ms  statement: )" + huge + "\"}\n", sink);
  o.format = Format::Csv;
  make_reader(o)->feed("2024-01-02 03:04:05 UTC,,,1,,s,1,,,,0,LOG,00000,\"duration: 5.5 ms  statement: " + huge +
                           "\",,,,,,,,,\"\"\n",
                       sink);
  o.format = Format::Stderr;
  auto reader = make_reader(o);
  reader->feed("2024-01-02 03:04:05 UTC [1]: [1-1] user=,db=,app=,client= LOG:  duration: 5.5 ms  statement: " + huge + "\n", sink);
  reader->flush(sink);
  REQUIRE(out.size() == 3);
  for (const LogEntry& e : out) {
    CHECK(e.message.size() == 100);
    CHECK(classify(e).duration_ms == 5.5);
  }
}
