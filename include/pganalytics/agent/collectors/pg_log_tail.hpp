// One instance's log read into pg_log samples, its read position persisted only once the samples
// of every read are spooled: a crash in between reads them again instead of losing them.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "pganalytics/agent/collectors/pg_log_source.hpp"
#include "pganalytics/agent/log/follower.hpp"
#include "pganalytics/agent/log/rate_limit.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

struct LogTailOptions {
  std::string instance;
  std::filesystem::path state_file;  // its directory is created on the first commit
  agent::log::RateLimits limits;
  std::uint64_t max_bytes_per_poll = 8 << 20;  // a larger backlog is read over several reads
};

class LogTail {
 public:
  // Resumes from the state file when it exists, else starts at the end of the current file.
  LogTail(LogSource source, agent::log::TimeZones zones, LogTailOptions options);
  // The follower's locator refers back to this object.
  LogTail(const LogTail&) = delete;
  LogTail& operator=(const LogTail&) = delete;

  struct Read {
    std::vector<metrics::Sample> samples;  // one read is one rate-limiting window
    agent::log::PollResult poll;
  };
  Read read(std::chrono::system_clock::time_point now);

  // Everything read() returned so far is safe: persist the position after it.
  std::error_code commit();
  // read() has moved past what commit() persisted.
  bool uncommitted() const;

  const LogSource& source() const { return source_; }
  std::optional<std::filesystem::path> file() const;  // the file being read; nullopt before the first one

 private:
  LogSource source_;
  LogTailOptions options_;
  agent::log::LogFollower follower_;
  std::optional<agent::log::FollowerState> returned_;   // the position after the last read()
  std::optional<agent::log::FollowerState> committed_;  // the position in the state file
};

}  // namespace pga::agent::collectors
