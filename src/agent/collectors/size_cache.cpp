// SizeCache: which objects to size this cycle, and the sizes read before for the others.
// The refresh of unchanged objects is spread evenly over the cycles of max_age.
#include "pganalytics/agent/collectors/size_cache.hpp"

#include <algorithm>
#include <cmath>
#include <set>

namespace pga::agent::collectors {

SizeCache::SizeCache(Clock::duration max_age, Clock::duration min_interval)
    : max_age_(max_age), min_interval_(min_interval) {}

std::vector<std::int64_t> SizeCache::due(const std::vector<SizedObject>& objects, Clock::time_point now) {
  std::set<std::int64_t> present;
  for (const auto& object : objects) present.insert(object.id);
  std::erase_if(entries_, [&](const auto& entry) { return !present.contains(entry.first); });

  std::vector<std::int64_t> due;
  std::vector<std::pair<Clock::time_point, std::int64_t>> waiting;  // (sized at, id)
  for (const auto& object : objects) {
    const auto it = entries_.find(object.id);
    if (it == entries_.end()) due.push_back(object.id);
    else if (it->second.fingerprint != object.fingerprint && now - it->second.sized_at >= min_interval_)
      due.push_back(object.id);
    else waiting.emplace_back(it->second.sized_at, object.id);
  }
  // The share of max_age elapsed since the last cycle is the share of the other objects to
  // refresh now, the fractions carried over to the next cycles; those already past max_age
  // (after a long pause) go whatever the share.
  if (last_due_)
    refresh_credit_ += std::chrono::duration<double>(now - *last_due_) / std::chrono::duration<double>(max_age_) *
                       static_cast<double>(waiting.size());
  const auto quota = static_cast<std::size_t>(std::min(refresh_credit_ + 1e-9, static_cast<double>(waiting.size())));
  refresh_credit_ = std::max(0.0, refresh_credit_ - static_cast<double>(quota));
  std::sort(waiting.begin(), waiting.end());
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    const auto& [sized_at, id] = waiting[i];
    if (i < quota || now - sized_at >= max_age_) due.push_back(id);
  }
  last_due_ = now;
  return due;
}

void SizeCache::store(std::int64_t id, std::string fingerprint, std::vector<metrics::Cell> sizes,
                      Clock::time_point now) {
  entries_[id] = Entry{std::move(fingerprint), std::move(sizes), now};
}

const std::vector<metrics::Cell>* SizeCache::sizes(std::int64_t id) const {
  const auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second.sizes;
}

}  // namespace pga::agent::collectors
