// The log storm guard: the first rows of each event type pass, the rest are merged into one row
// per (event, normalised message), summing figures so totals over rows stay exact.
#include "pganalytics/agent/log/rate_limit.hpp"

#include <utility>

namespace pga::agent::log {
namespace {

template <class T>
void sum(std::optional<T>& into, const std::optional<T>& from) {
  if (from) into = into.value_or(T{}) + *from;
}

template <class T>
void keep_if_shared(T& into, const T& from) {
  if (into != from) into = T{};
}

void merge(LogEvent& into, const LogEvent& from) {
  into.occurrences += from.occurrences;
  sum(into.duration_ms, from.duration_ms);
  sum(into.buffers_written, from.buffers_written);
  sum(into.write_ms, from.write_ms);
  sum(into.sync_ms, from.sync_ms);
  sum(into.tuples_removed, from.tuples_removed);
  sum(into.pages_removed, from.pages_removed);
  sum(into.temp_file_bytes, from.temp_file_bytes);
  keep_if_shared(into.severity, from.severity);
  keep_if_shared(into.sqlstate, from.sqlstate);
  keep_if_shared(into.database, from.database);
  keep_if_shared(into.user, from.user);
  keep_if_shared(into.application, from.application);
  keep_if_shared(into.pid, from.pid);
  keep_if_shared(into.relation, from.relation);
  keep_if_shared(into.message, from.message);
}

}  // namespace

RateLimiter::RateLimiter(RateLimits limits) : limits_(limits) {}

void RateLimiter::add(LogEvent&& event) {
  PerType& type = types_[static_cast<std::size_t>(event.type)];
  type.seen += event.occurrences;
  if (type.rows < limits_.rows_per_event) {
    ++type.rows;
    rows_.push_back(std::move(event));
    return;
  }
  fold(type, std::move(event));
}

void RateLimiter::fold(PerType& type, LogEvent&& event) {
  if (auto it = type.groups.find(event.message); it != type.groups.end()) return merge(rows_[it->second], event);
  if (type.groups.size() < limits_.groups_per_event) {
    type.groups.emplace(event.message, rows_.size());
    rows_.push_back(std::move(event));
    return;
  }
  if (type.overflow != SIZE_MAX) return merge(rows_[type.overflow], event);
  type.overflow = rows_.size();
  event.message.clear();
  rows_.push_back(std::move(event));
}

std::vector<LogEvent> RateLimiter::take() {
  types_ = {};
  return std::exchange(rows_, {});
}

std::int64_t RateLimiter::seen(EventType type) const { return types_[static_cast<std::size_t>(type)].seen; }

}  // namespace pga::agent::log
