// Choosing the log to follow from the server's settings and log_path: format preference, paths,
// and refusals that name the setting or grant the user needs; locating the current file.
#include "temp_dir.hpp"
#include <doctest/doctest.h>
#include <stdlib.h>

#include <fstream>

#include "pganalytics/agent/collectors/pg_log_source.hpp"

using namespace pga::agent::collectors;
using pga::agent::log::Format;
namespace fs = std::filesystem;

namespace {

using pga::test::TempDir;

ServerLogSettings collector_on(std::string destinations) {
  ServerLogSettings s;
  s.log_destination = std::move(destinations);
  s.logging_collector = "on";
  s.log_directory = "log";
  s.log_filename = "postgresql-%Y-%m-%d_%H%M%S.log";
  s.data_directory = "/srv/pg/data";
  s.log_line_prefix = "%m [%p] ";
  s.log_timezone = "Europe/Paris";
  return s;
}

}  // namespace

TEST_CASE("csvlog, then jsonlog, are preferred to stderr; the directory is below data_directory") {
  auto csv = choose_log_source(collector_on("stderr, CSVlog"), "");
  REQUIRE(csv.source);
  CHECK(csv.source->format == Format::Csv);
  CHECK(csv.source->directory == fs::path("/srv/pg/data/log"));
  CHECK(csv.source->pattern == "postgresql-%Y-%m-%d_%H%M%S.log");
  CHECK(csv.source->data_directory == fs::path("/srv/pg/data"));
  CHECK(csv.source->line_prefix == "%m [%p] ");
  CHECK(csv.source->log_timezone == "Europe/Paris");
  CHECK(choose_log_source(collector_on("jsonlog,stderr"), "").source->format == Format::Json);
  CHECK(choose_log_source(collector_on("syslog,stderr"), "").source->format == Format::Stderr);
}

TEST_CASE("an absolute log_directory needs no data_directory") {
  auto settings = collector_on("stderr");
  settings.log_directory = "/var/log/pg";
  settings.data_directory.clear();
  auto choice = choose_log_source(settings, "");
  REQUIRE(choice.source);
  CHECK(choice.source->directory == fs::path("/var/log/pg"));
}

TEST_CASE("without a log file to find, the refusal says what to set or grant") {
  auto off = collector_on("stderr");
  off.logging_collector = "off";
  auto choice = choose_log_source(off, "");
  CHECK_FALSE(choice.source);
  CHECK(choice.problem.find("logging_collector = on") != std::string::npos);
  CHECK(choice.problem.find("log_path") != std::string::npos);

  auto syslog = choose_log_source(collector_on("syslog"), "");
  CHECK_FALSE(syslog.source);
  CHECK(syslog.problem.find("log_destination is 'syslog'") != std::string::npos);

  auto hidden = collector_on("stderr");
  hidden.data_directory.clear();  // the role lacks pg_read_all_settings
  auto unresolved = choose_log_source(hidden, "");
  CHECK_FALSE(unresolved.source);
  CHECK(unresolved.problem.find("pg_monitor") != std::string::npos);
}

TEST_CASE("a log_path file is read in the format its name says, even without logging_collector") {
  auto off = collector_on("csvlog");
  off.logging_collector = "off";
  auto plain = choose_log_source(off, "/var/log/postgresql/postgresql-15-main.log");
  REQUIRE(plain.source);
  CHECK(plain.source->format == Format::Stderr);
  CHECK(plain.source->file == fs::path("/var/log/postgresql/postgresql-15-main.log"));
  CHECK(plain.source->current() == fs::path("/var/log/postgresql/postgresql-15-main.log"));
  CHECK(choose_log_source(off, "/logs/pg.csv").source->format == Format::Csv);
  CHECK(choose_log_source(off, "/logs/pg.json").source->format == Format::Json);
}

TEST_CASE("a log_path directory stands for log_directory: the newest file fitting log_filename") {
  TempDir dir;
  auto choice = choose_log_source(collector_on("stderr,csvlog"), dir.path.string());
  REQUIRE(choice.source);
  CHECK(choice.source->format == Format::Csv);
  CHECK(choice.source->directory == dir.path);
  CHECK(choice.source->data_directory.empty());
  CHECK_FALSE(choice.source->current());
  CHECK(choice.source->explain("no log file found").find("matches log_filename 'postgresql-%Y-%m-%d_%H%M%S.csv'") !=
        std::string::npos);

  std::ofstream(dir.path / "postgresql-2024-03-01_120000.log") << "x\n";
  std::ofstream(dir.path / "postgresql-2024-03-01_120000.csv") << "x\n";
  std::ofstream(dir.path / "notes.csv") << "x\n";
  CHECK(choice.source->current() == dir.path / "postgresql-2024-03-01_120000.csv");

  auto off = collector_on("stderr");
  off.logging_collector = "off";
  auto refused = choose_log_source(off, dir.path.string());
  CHECK_FALSE(refused.source);
  CHECK(refused.problem.find("set log_path to the file") != std::string::npos);
}

TEST_CASE("after a finished file comes the oldest one begun after it, not the newest") {
  TempDir dir;
  auto choice = choose_log_source(collector_on("stderr"), dir.path.string());
  REQUIRE(choice.source);
  const auto start = fs::file_time_type::clock::now() - std::chrono::minutes(10);
  std::vector<fs::path> files;
  for (int i = 0; i < 3; ++i) {
    files.push_back(dir.path / ("postgresql-2024-03-01_12000" + std::to_string(i) + ".log"));
    std::ofstream(files.back()) << "x\n";
    fs::last_write_time(files.back(), start + std::chrono::minutes(i));
  }
  std::ofstream(dir.path / "postgresql-2024-03-01_120009.csv") << "x\n";  // another format's file
  CHECK(choice.source->after(files[0]) == files[1]);
  CHECK(choice.source->after(files[1]) == files[2]);
  CHECK(choice.source->after(files[2]) == files[2]);
  CHECK(choice.source->after(dir.path / "deleted.log") == files[2]);

  LogSource fixed;
  fixed.file = files[0];
  CHECK(fixed.after(files[0]) == files[0]);
}

TEST_CASE("follower errors other than a missing file pass through, permission ones with the remedy") {
  LogSource source;
  source.file = "/nonexistent/pg.log";
  CHECK(source.explain("cannot read /x: Input/output error") == "cannot read /x: Input/output error");
  CHECK(source.explain("cannot open /x: Permission denied").find("log_file_mode = 0640") != std::string::npos);
}
