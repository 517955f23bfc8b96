// Failures that anyone can cause (failed enrolments and sign-ins, refused tokens, permission
// denials) must not let a flood write the audit log at the flood's rate (issue 11.5). Per
// (action, actor, address, outcome) and minute, the first few events are written as they come;
// the rest are only counted, and one summary row with their count is written when the minute is
// over (or when the server stops). Each replica aggregates its own events; memory is bounded.
#pragma once
#include <chrono>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "pganalytics/server/repository.hpp"

namespace pga::server {

class AuditThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::size_t kWrittenPerWindow = 5;
  static constexpr std::size_t kMaxKeys = 10'000;

  explicit AuditThrottle(std::chrono::seconds window = std::chrono::seconds(60)) : window_(window) {}

  // True: write this event now. False: it was counted into a summary.
  bool admit(const repo::AuditEntry& entry, Clock::time_point now = Clock::now());
  // The summary rows of windows that are over (every window with `all`), which then restart.
  std::vector<repo::AuditEntry> take_summaries(bool all, Clock::time_point now = Clock::now());

 private:
  struct Window {
    Clock::time_point start;
    std::size_t written = 0;
    std::int64_t counted = 0;
    repo::AuditEntry sample;
  };
  std::chrono::seconds window_;
  std::mutex mutex_;
  std::map<std::string, Window> windows_;
};

}  // namespace pga::server
