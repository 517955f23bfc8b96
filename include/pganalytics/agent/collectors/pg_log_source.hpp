// Where one instance's log is and how to read it, decided from the server's logging settings and
// the [[instance]] log_path; when it cannot be read, the one thing the user has to set or grant.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "pganalytics/agent/log/entry.hpp"

namespace pga::agent::collectors {

// The pg_settings values the choice depends on. A setting the agent's role may not see is empty:
// data_directory needs pg_read_all_settings, which pg_monitor includes.
struct ServerLogSettings {
  std::string log_destination;
  std::string logging_collector;
  std::string log_directory;
  std::string log_filename;
  std::string data_directory;
  std::string log_line_prefix;
  std::string log_timezone;
};

struct LogSource {
  agent::log::Format format = agent::log::Format::Stderr;
  std::string line_prefix;   // the server's log_line_prefix, which stderr lines start with
  std::string log_timezone;  // the zone the timestamps are printed in
  std::filesystem::path file;  // a configured log file, followed under that name
  // Otherwise the newest file in `directory` whose name fits the log_filename `pattern`, or the
  // one the server names in data_directory/current_logfiles when the agent may read it.
  std::filesystem::path directory;
  std::string pattern;
  std::filesystem::path data_directory;
  bool operator==(const LogSource&) const = default;

  // The file the server writes now; nullopt when none is found.
  std::optional<std::filesystem::path> current() const;
  // The file to read once `reading` is finished: the oldest one the server began after it, else
  // the current one. Stepping through them one by one, not jumping to the current file, keeps
  // the files of several rotations while the agent was down.
  std::optional<std::filesystem::path> after(const std::filesystem::path& reading) const;
  // The follower's error (no file found, cannot open or read one) said as the user can fix it.
  std::string explain(const std::string& follower_error) const;
};

// Either a source or, in `problem`, why there is none and what to set or grant.
struct LogSourceChoice {
  std::optional<LogSource> source;
  std::string problem;
};

// csvlog, then jsonlog, are preferred to stderr when enabled: their fields cannot be confused with
// message text. A configured log_path file is read in the format its name says (.csv, .json, else
// stderr); a log_path directory stands for the server's log_directory as this host sees it.
LogSourceChoice choose_log_source(const ServerLogSettings& settings, const std::string& log_path);

}  // namespace pga::agent::collectors
