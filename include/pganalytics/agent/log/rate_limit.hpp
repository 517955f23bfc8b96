// The log storm guard: per collection window, at most N rows per event type reach the spool;
// the rest fold into one row per (event, normalised message) whose occurrences count them.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "pganalytics/agent/log/event.hpp"

namespace pga::agent::log {

struct RateLimits {
  std::size_t rows_per_event = 1000;
  // Distinct messages folded per event type; beyond this they share one row whose message is
  // NULL, so a storm of all-different statements is bounded too.
  std::size_t groups_per_event = 100;
};

// Counts stay exact: the occurrences of a window's rows of one type add up to the events seen.
// Folded rows carry the sums of their figures (total duration, total temp bytes, ...) and only
// the attributes every folded event shared; the time is the first folded event's.
class RateLimiter {
 public:
  explicit RateLimiter(RateLimits limits = {});

  void add(LogEvent&& event);
  // The window's rows, kept rows in arrival order with each folded row where its group began;
  // the limiter starts a new window.
  std::vector<LogEvent> take();
  // Events of this type added in the current window, kept and folded alike.
  std::int64_t seen(EventType type) const;

 private:
  struct PerType {
    std::size_t rows = 0;
    std::int64_t seen = 0;
    std::unordered_map<std::string, std::size_t> groups;  // message -> index in rows_
    std::size_t overflow = SIZE_MAX;                        // index of the NULL-message row
  };
  void fold(PerType& type, LogEvent&& event);

  RateLimits limits_;
  std::vector<LogEvent> rows_;
  std::array<PerType, kEventTypeCount> types_;
};

}  // namespace pga::agent::log
