// The log follower on real files: partial lines, restarts from saved state, rotation, truncation
// (also refilled past the offset), the per-poll byte cap, and locating the current log.
#include "temp_dir.hpp"
#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <utime.h>

#include <fstream>

#include "pganalytics/agent/log/follower.hpp"
#include "pganalytics/agent/log/log_files.hpp"

using namespace pga::agent::log;
namespace fs = std::filesystem;

namespace {

using pga::test::TempDir;
using pga::test::append;


std::string line(int n) { return R"({"error_severity":"LOG","message":"m)" + std::to_string(n) + "\"}\n"; }

std::string lines(int from, int to) {
  std::string s;
  for (int i = from; i < to; ++i) s += line(i);
  return s;
}

FollowerOptions json_options(const fs::path& state_file = {}) {
  FollowerOptions o;
  o.reader.format = Format::Json;
  o.state_file = state_file;
  o.start_at_end = false;
  return o;
}

LogLocator fixed(fs::path file) {
  return [file] { return fs::exists(file) ? std::optional{file} : std::nullopt; };
}

// Polls once, returning the messages handed out.
std::vector<std::string> poll(LogFollower& follower, PollResult* result = nullptr) {
  std::vector<std::string> out;
  PollResult r = follower.poll([&](LogEntry&& e) { out.push_back(e.message); });
  CHECK(r.entries == out.size());
  if (result) *result = r;
  return out;
}

std::vector<std::string> messages(int from, int to) {
  std::vector<std::string> out;
  for (int i = from; i < to; ++i) out.push_back("m" + std::to_string(i));
  return out;
}

}  // namespace

TEST_CASE("an unterminated last line waits for its end") {
  TempDir dir;
  fs::path log = dir.path / "postgresql.json";
  append(log, line(0) + R"({"error_severity":"LOG","mess)");
  LogFollower follower(json_options(), fixed(log));
  CHECK(poll(follower) == messages(0, 1));
  CHECK(follower.state()->offset == line(0).size());
  CHECK(poll(follower).empty());
  append(log, R"(age":"m1"})" "\n");
  CHECK(poll(follower) == messages(1, 2));
  CHECK(follower.state()->offset == fs::file_size(log));
}

TEST_CASE("a new follower resumes from the saved state: nothing twice, nothing skipped") {
  TempDir dir;
  fs::path log = dir.path / "postgresql.json", state = dir.path / "state.json";
  append(log, lines(0, 3));
  {
    LogFollower first(json_options(state), fixed(log));
    CHECK(poll(first) == messages(0, 3));
    CHECK_FALSE(first.save_state());
  }
  CHECK_FALSE(fs::exists(dir.path / "state.json.tmp"));
  auto saved = load_follower_state(state);
  REQUIRE(saved);
  CHECK(saved->path == log);
  CHECK(saved->offset == fs::file_size(log));
  CHECK(saved->head_size == fs::file_size(log));  // under 256 bytes: all of it

  append(log, lines(3, 5));
  {
    LogFollower second(json_options(state), fixed(log));
    CHECK(poll(second) == messages(3, 5));
    // Not saved, as after a crash before the rows reached the spool: they come again.
  }
  LogFollower third(json_options(state), fixed(log));
  CHECK(poll(third) == messages(3, 5));
  CHECK_FALSE(third.save_state());
  append(log, line(5));
  LogFollower fourth(json_options(state), fixed(log));
  CHECK(poll(fourth) == messages(5, 6));
}

TEST_CASE("rotation by rename: the old file is finished under its new name, then the new one") {
  TempDir dir;
  fs::path log = dir.path / "postgresql.json";
  append(log, lines(0, 2));
  LogFollower follower(json_options(), fixed(log));
  CHECK(poll(follower) == messages(0, 2));
  append(log, lines(2, 4));
  fs::rename(log, dir.path / "postgresql.json.1");
  append(log, lines(4, 6));
  PollResult r;
  CHECK(poll(follower, &r) == messages(2, 6));
  CHECK(r.rotated);
  CHECK(follower.state()->path == log);
  append(log, line(6));
  CHECK(poll(follower) == messages(6, 7));
}

TEST_CASE("rotation by a new file name, found through log_filename") {
  TempDir dir;
  auto locate = [&] { return find_current_log(dir.path, "postgresql-%Y%m%d_%H%M%S.log", Format::Json); };
  fs::path old_file = dir.path / "postgresql-20240101_000000.json";
  append(old_file, lines(0, 2));
  LogFollower follower(json_options(), locate);
  CHECK(poll(follower) == messages(0, 2));
  append(old_file, lines(2, 3));
  fs::path new_file = dir.path / "postgresql-20240101_010000.json";
  append(new_file, lines(3, 5));
  PollResult r;
  CHECK(poll(follower, &r) == messages(2, 5));
  CHECK(r.rotated);
  CHECK(follower.state()->path == new_file);
}

TEST_CASE("a rotated file that is gone is given up for the new one") {
  TempDir dir;
  fs::path log = dir.path / "postgresql.json";
  append(log, lines(0, 1));
  LogFollower follower(json_options(), fixed(log));
  CHECK(poll(follower) == messages(0, 1));
  fs::remove(log);
  PollResult r;
  CHECK(poll(follower, &r).empty());
  CHECK_FALSE(r.error.empty());
  append(log, lines(1, 3));
  CHECK(poll(follower, &r) == messages(1, 3));
  CHECK((r.rotated || r.truncated));  // the new file may reuse the old inode: the fingerprint tells
}

TEST_CASE("truncation starts over, also when the file was refilled past the offset") {
  TempDir dir;
  fs::path log = dir.path / "postgresql.json";
  append(log, lines(0, 3));
  LogFollower follower(json_options(), fixed(log));
  CHECK(poll(follower) == messages(0, 3));

  fs::resize_file(log, 0);
  append(log, lines(10, 11));
  PollResult r;
  CHECK(poll(follower, &r) == messages(10, 11));
  CHECK(r.truncated);

  // copytruncate between two looks: shorter head, more bytes than before.
  fs::resize_file(log, 0);
  append(log, lines(20, 30));
  CHECK(poll(follower, &r) == messages(20, 30));
  CHECK(r.truncated);
  CHECK(poll(follower, &r).empty());
  CHECK_FALSE(r.truncated);
}

TEST_CASE("the per-poll cap reads a backlog over several polls, each entry once") {
  TempDir dir;
  fs::path log = dir.path / "postgresql.json";
  append(log, lines(0, 50));
  FollowerOptions o = json_options();
  o.max_bytes_per_poll = 100;
  o.chunk_bytes = 16;
  LogFollower follower(o, fixed(log));
  std::vector<std::string> all;
  int polls = 0;
  for (PollResult r; polls == 0 || r.more; ++polls) {
    auto got = poll(follower, &r);
    all.insert(all.end(), got.begin(), got.end());
    CHECK(r.bytes_read <= 100);
  }
  CHECK(all == messages(0, 50));
  CHECK(polls > 10);

  // The cap also applies while finishing a rotated file.
  append(log, lines(50, 60));
  fs::rename(log, dir.path / "old.json");
  append(log, lines(60, 62));
  PollResult r;
  std::vector<std::string> after_rotation = poll(follower, &r);
  CHECK(r.more);
  CHECK_FALSE(r.rotated);
  for (bool rotated = false; r.more || !rotated; rotated = rotated || r.rotated) {
    auto got = poll(follower, &r);
    after_rotation.insert(after_rotation.end(), got.begin(), got.end());
  }
  CHECK(after_rotation == messages(50, 62));
}

TEST_CASE("without saved state the follower starts at the end") {
  TempDir dir;
  fs::path log = dir.path / "postgresql.json";
  append(log, lines(0, 5));
  FollowerOptions o = json_options();
  o.start_at_end = true;
  LogFollower follower(o, fixed(log));
  CHECK(poll(follower).empty());
  append(log, line(5));
  CHECK(poll(follower) == messages(5, 6));
}

TEST_CASE("stderr: the last entry is handed out when the log goes quiet, and its bytes stay unsaved until then") {
  TempDir dir;
  fs::path log = dir.path / "postgresql.log", state = dir.path / "state.json";
  FollowerOptions o;
  o.reader.line_prefix = "%m [%p] ";
  o.state_file = state;
  o.start_at_end = false;
  std::string one = "2024-01-02 03:04:05.000 UTC [1] LOG:  one\n";
  std::string two = "2024-01-02 03:04:06.000 UTC [1] ERROR:  two\n2024-01-02 03:04:06.000 UTC [1] STATEMENT:  select\n\t1\n";
  append(log, one + two);
  LogFollower follower(o, fixed(log));
  std::vector<LogEntry> got;
  EntrySink sink = [&](LogEntry&& e) { got.push_back(std::move(e)); };
  follower.poll(sink);
  REQUIRE(got.size() == 1);
  CHECK(follower.state()->offset == one.size());
  CHECK_FALSE(follower.save_state());

  LogFollower restarted(o, fixed(log));
  restarted.poll(sink);
  CHECK(got.size() == 1);
  restarted.poll(sink);  // nothing new: the log is quiet
  REQUIRE(got.size() == 2);
  CHECK(got[1].message == "two");
  CHECK(got[1].statement == "select\n1");
  CHECK(restarted.state()->offset == one.size() + two.size());
}

TEST_CASE("state files: round trip, garbage is no state") {
  TempDir dir;
  fs::path file = dir.path / "s.json";
  FollowerState s{"/var/log/postgresql/x.log", {2049, 1234567}, 987654321, 256, 0xFEDCBA9876543210ULL};
  CHECK_FALSE(save_follower_state(file, s));
  auto back = load_follower_state(file);
  REQUIRE(back);
  CHECK(back->path == s.path);
  CHECK(back->id == s.id);
  CHECK(back->offset == s.offset);
  CHECK(back->head_hash == s.head_hash);
  append(dir.path / "bad.json", R"({"path":"x","device":1,"inode":-2,"offset":0,"head_size":0,"head_hash":0})");
  CHECK_FALSE(load_follower_state(dir.path / "bad.json"));
  CHECK_FALSE(load_follower_state(dir.path / "missing.json"));
  CHECK(save_follower_state(dir.path / "no/such/dir/s.json", s));
}

TEST_CASE("finding the current log: current_logfiles, else the newest file matching log_filename") {
  TempDir dir;
  fs::path data = dir.path / "data";
  fs::create_directories(data / "log");
  for (const char* name : {"postgresql-2024-01-01_000000.log", "postgresql-2024-01-02_000000.log",
                           "postgresql-2024-01-02_000000.csv", "postgresql-2024-01-02_000000.json", "other.log"})
    append(data / "log" / name, "x\n");
  auto set_mtime = [](const fs::path& p, time_t t) {
    struct utimbuf times{t, t};
    ::utime(p.c_str(), &times);
  };
  set_mtime(data / "log/postgresql-2024-01-01_000000.log", 2000000000);  // newest by time, not by name
  set_mtime(data / "log/postgresql-2024-01-02_000000.log", 1000000000);
  set_mtime(data / "log/other.log", 2100000000);

  std::string pattern = "postgresql-%Y-%m-%d_%H%M%S.log";
  CHECK(find_current_log("log", pattern, Format::Stderr, data) == data / "log/postgresql-2024-01-01_000000.log");
  CHECK(find_current_log(data / "log", pattern, Format::Csv) == data / "log/postgresql-2024-01-02_000000.csv");
  CHECK(find_current_log(data / "log", pattern, Format::Json) == data / "log/postgresql-2024-01-02_000000.json");
  CHECK_FALSE(find_current_log(dir.path / "nope", pattern, Format::Stderr));

  append(data / "current_logfiles", "stderr log/postgresql-2024-01-02_000000.log\njsonlog /abs/missing.json\n");
  CHECK(find_current_log("log", pattern, Format::Stderr, data) == data / "log/postgresql-2024-01-02_000000.log");
  // A named file that does not exist falls back to the directory listing.
  CHECK(find_current_log("log", pattern, Format::Json, data) == data / "log/postgresql-2024-01-02_000000.json");
}

TEST_CASE("log_filename patterns") {
  CHECK(matches_strftime("postgresql-%Y-%m-%d_%H%M%S.log", "postgresql-2024-03-01_120000.log"));
  CHECK_FALSE(matches_strftime("postgresql-%Y-%m-%d_%H%M%S.log", "postgresql-2024-03-01_1200.log"));
  CHECK(matches_strftime("postgresql-%a.log", "postgresql-Mon.log"));
  CHECK_FALSE(matches_strftime("postgresql-%a.log", "postgresql-Mon.log.1"));
  CHECK(matches_strftime("pg-%F-%s.log", "pg-2024-03-01-1709294400.log"));
  CHECK(matches_strftime("100%%-%j.log", "100%-061.log"));
  CHECK(matches_strftime("postgresql.log", "postgresql.log"));
  CHECK(destination_filename("postgresql-%a.log", Format::Csv) == "postgresql-%a.csv");
  CHECK(destination_filename("server_log", Format::Json) == "server_log.json");
  CHECK(destination_filename("x.log", Format::Stderr) == "x.log");
}
