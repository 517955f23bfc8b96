// Classification of PostgreSQL messages (12 to 17 wordings) into CONTRACT §6 events with their
// figures, message normalisation, and the pg_log samples built from events.
#include <doctest/doctest.h>

#include <algorithm>

#include "pganalytics/agent/log/event.hpp"
#include "pganalytics/agent/log/samples.hpp"
#include "pganalytics/metrics/registry.hpp"

using namespace pga::agent::log;
using namespace std::chrono;

namespace {

LogEvent of(std::string message, std::string severity = "LOG", std::string sqlstate = {}) {
  LogEntry e;
  e.message = std::move(message);
  e.severity = std::move(severity);
  e.sqlstate = std::move(sqlstate);
  return classify(e);
}

}  // namespace

TEST_CASE("checkpoints and restartpoints, 12 to 17 wordings") {
  auto pg17 = of("checkpoint complete: wrote 3 buffers (0.0%); 0 WAL file(s) added, 0 removed, 0 recycled; "
                 "write=0.101 s, sync=1.002 s, total=1.250 s; sync files=2, longest=0.001 s, average=0.001 s; "
                 "distance=0 kB, estimate=0 kB; lsn=0/1549F10, redo lsn=0/1549EB8");
  CHECK(pg17.type == EventType::Checkpoint);
  CHECK(pg17.buffers_written == 3);
  CHECK(pg17.write_ms == 101.0);
  CHECK(pg17.sync_ms == 1002.0);
  CHECK(pg17.duration_ms == 1250.0);
  CHECK(pg17.message.ends_with("lsn=?, redo lsn=?"));
  auto restart = of("restartpoint complete: wrote 7 buffers (0.1%); 0 WAL file(s) added, 0 removed, 1 recycled; "
                    "write=12.5 s, sync=0.000 s, total=12.503 s; sync files=0, longest=0.000 s, average=0.000 s");
  CHECK(restart.type == EventType::Checkpoint);
  CHECK(restart.write_ms == 12500.0);
  CHECK(of("checkpoint starting: time").type == EventType::Other);
}

TEST_CASE("autovacuum and autoanalyze") {
  auto wraparound = of("automatic aggressive vacuum to prevent wraparound of table \"db.s.t\": index scans: 0\n"
                       "pages: 3 removed, 10 remain, 10 scanned (100.00% of total)\n"
                       "tuples: 44 removed, 1000 remain, 0 are dead but not yet removable\n"
                       "index \"t_pkey\": pages: 9 in total, 0 newly deleted\n"
                       "system usage: CPU: user: 0.01 s, system: 0.00 s, elapsed: 1.234 s");
  CHECK(wraparound.type == EventType::Autovacuum);
  CHECK(wraparound.relation == "db.s.t");
  CHECK(wraparound.pages_removed == 3);
  CHECK(wraparound.tuples_removed == 44);
  CHECK(wraparound.duration_ms == 1234.0);
  auto quoted = of("automatic vacuum of table \"db.public.we\"ird\": index scans: 0\npages: 0 removed");
  CHECK(quoted.relation == "db.public.we\"ird");
  CHECK_FALSE(quoted.duration_ms);
  auto analyze = of("automatic analyze of table \"db.s.t\"\navg read rate: 0.000 MB/s\n"
                    "system usage: CPU: user: 0.04 s, system: 0.00 s, elapsed: 0.08 s");
  CHECK(analyze.type == EventType::Autoanalyze);
  CHECK(analyze.relation == "db.s.t");
  CHECK(analyze.duration_ms == 80.0);
}

TEST_CASE("statements, lock waits, deadlocks, temp files, sessions, errors") {
  CHECK(of("duration: 12.345 ms  execute S_1: select $1").duration_ms == 12.345);
  CHECK(of("duration: 0.050 ms  bind <unnamed>: select 1").type == EventType::SlowStatement);
  CHECK(of("duration: 7.000 ms").duration_ms == 7.0);
  CHECK(of("duration: 1001.5 ms  plan:\nQuery Text: select 1").duration_ms == 1001.5);

  for (const char* wait : {"process 12 still waiting for ShareLock on transaction 5 after 1000.072 ms",
                           "process 12 acquired ExclusiveLock on relation 1 of database 5 after 1000.072 ms",
                           "process 12 avoided deadlock for AccessExclusiveLock on relation 1 by rearranging "
                           "queue order after 1000.072 ms",
                           "process 12 detected deadlock while waiting for ShareLock on transaction 9 after 1000.072 ms"}) {
    auto e = of(wait);
    CHECK_MESSAGE(e.type == EventType::LockWait, wait);
    CHECK(e.duration_ms == 1000.072);
  }
  CHECK(of("process 12 exited").type == EventType::Other);

  auto deadlock = of("deadlock detected", "ERROR");
  CHECK(deadlock.type == EventType::Deadlock);
  CHECK(deadlock.sqlstate == "40P01");  // derived: stderr without %e does not say
  CHECK(of("some other wording", "ERROR", "40P01").type == EventType::Deadlock);

  auto temp = of("temporary file: path \"base/pgsql_tmp/pgsql_tmp123.4\", size 123456789");
  CHECK(temp.type == EventType::TempFile);
  CHECK(temp.temp_file_bytes == 123456789);
  CHECK(temp.message == "temporary file: path ?, size ?");

  CHECK(of("connection received: host=10.0.0.1 port=5555").type == EventType::Connection);
  CHECK(of("connection authorized: user=a database=b SSL enabled (protocol=TLSv1.3)").type == EventType::Connection);
  CHECK(of("replication connection authorized: user=rep").type == EventType::Connection);
  CHECK(of("disconnection: session time: 12:03:04.500 user=a database=b host=c").duration_ms == 43384500.0);

  auto error = of("relation \"t\" does not exist", "ERROR", "42P01");
  CHECK(error.type == EventType::Error);
  CHECK(error.sqlstate == "42P01");
  CHECK(of("terminating connection due to administrator command", "FATAL", "57P01").type == EventType::Error);
  CHECK(of("could not write", "PANIC").type == EventType::Error);
  CHECK(of("there is no transaction in progress", "WARNING", "25P01").type == EventType::Other);
  CHECK(of("database system is ready to accept connections", "LOG", "00000").sqlstate.empty());
  CHECK(event_name(EventType::SlowStatement) == "slow_statement");
  CHECK(event_name(EventType::Other) == "other");
}

TEST_CASE("normalisation: values become ?, words stay") {
  CHECK(normalize_message("duration: 0.298 ms  statement: SELECT 'it''s', 42, -7, 0.5 AS half") ==
        "duration: ? ms  statement: SELECT ?, ?, -?, ? AS half");
  CHECK(normalize_message("relation \"nonexistent_table\" does not exist at character 15") ==
        "relation ? does not exist at character ?");
  CHECK(normalize_message("redo starts at 0/16B3740, xid 0x1F2E, session 6b075d05.1cdd, host 127.0.0.1") ==
        "redo starts at ?, xid ?, session ?, host ?");
  CHECK(normalize_message("select * from t1 where c_2 = $1 and d = 64kB and e = 2024-01-02 03:04:05") ==
        "select * from t1 where c_2 = $1 and d = ?kB and e = ? ?");
  CHECK(normalize_message("session time: 0:00:00.307 user=postgres") == "session time: ? user=postgres");
  CHECK(normalize_message("can't stop") == "can't stop");  // an unclosed quote is text
  CHECK(normalize_message("added face cafe") == "added face cafe");  // hex-looking words are words
  CHECK(normalize_message("table \"\xC3\xA9t\xC3\xA9\" v\xC3\xA9lo 12") == "table ? v\xC3\xA9lo ?");
}

TEST_CASE("normalised messages are capped in characters and valid UTF-8") {
  std::string long_text;
  for (int i = 0; i < 600; ++i) long_text += "\xC3\xA9 ";
  std::string capped = normalize_message(long_text);
  CHECK(capped.size() == 1000 / 2 * 3);  // 500 × "é " = 1,000 characters, 1,500 bytes
  CHECK(normalize_message(long_text, 3) == "\xC3\xA9 \xC3\xA9");
  CHECK(normalize_message("bad \xFF\xC3 byte") == "bad \xEF\xBF\xBD\xEF\xBF\xBD byte");
  CHECK(valid_utf8("ok \xE2\x82\xAC \xED\xA0\x80") == "ok \xE2\x82\xAC \xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
  CHECK(of(std::string(5000, 'a')).message.size() == kMaxMessageChars);
}

TEST_CASE("pg_log samples: registry columns, typed cells, one sample per event time") {
  const pga::metrics::Family* family = pga::metrics::find_family("pg_log");
  REQUIRE(family);
  auto t0 = sys_days{year{2026} / 11 / 25} + hours{22};
  LogEvent checkpoint = of("checkpoint complete: wrote 5 buffers (0.0%); write=0.001 s, sync=0.002 s, total=0.004 s");
  checkpoint.time = t0 + seconds{1};
  checkpoint.pid = 7389;
  LogEvent error = of("division by zero", "ERROR", "22012");
  error.time = t0;
  error.database = "postgres";
  LogEvent undated = of("x");
  LogEvent same_time = of("y");
  same_time.time = t0;

  auto samples = to_samples({checkpoint, error, undated, same_time}, "main", t0 + seconds{60});
  REQUIRE(samples.size() == 3);
  CHECK(samples[0].at == t0);
  CHECK(samples[0].rows.size() == 2);
  CHECK(samples[1].at == t0 + seconds{1});
  CHECK(samples[2].at == t0 + seconds{60});
  for (const auto& s : samples) {
    CHECK(s.family == "pg_log");
    CHECK(s.instance == "main");
    REQUIRE(s.columns.size() == family->columns.size());
    for (std::size_t i = 0; i < s.columns.size(); ++i) CHECK(s.columns[i] == family->columns[i].name);
  }
  auto cell = [&](const pga::metrics::Row& row, std::string_view column) {
    auto at = std::find(samples[0].columns.begin(), samples[0].columns.end(), column) - samples[0].columns.begin();
    return row.at(static_cast<std::size_t>(at));
  };
  const auto& err = samples[0].rows[0];
  CHECK(std::get<std::string>(cell(err, "event")) == "error");
  CHECK(std::get<std::string>(cell(err, "sqlstate")) == "22012");
  CHECK(std::get<std::string>(cell(err, "database")) == "postgres");
  CHECK(std::holds_alternative<std::nullptr_t>(cell(err, "user_name")));
  CHECK(std::holds_alternative<std::nullptr_t>(cell(err, "duration_ms")));
  CHECK(std::get<std::int64_t>(cell(err, "occurrences")) == 1);
  const auto& cp = samples[1].rows[0];
  CHECK(std::get<std::string>(cell(cp, "event")) == "checkpoint");
  CHECK(std::get<std::int64_t>(cell(cp, "buffers_written")) == 5);
  CHECK(std::get<double>(cell(cp, "write_ms")) == 1.0);
  CHECK(std::get<double>(cell(cp, "sync_ms")) == 2.0);
  CHECK(std::get<double>(cell(cp, "duration_ms")) == 4.0);
  CHECK(std::get<std::int64_t>(cell(cp, "pid")) == 7389);
  CHECK(std::holds_alternative<std::nullptr_t>(cell(cp, "sqlstate")));
}
