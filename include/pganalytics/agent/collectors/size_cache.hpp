// Sizes of relations or databases read again only when they may have changed: statting every file
// of 1,000 tables each cycle cost the monitored server more than all the statistics together.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

// An object as one read of its statistics shows it. The fingerprint is made of the figures that
// move whenever its files can grow or shrink (rows inserted, updated, deleted, vacuums, file
// nodes): equal fingerprints mean no committed change that could alter the size.
struct SizedObject {
  std::int64_t id;
  std::string fingerprint;
};

// The longest the agent carries a size over unchanged (see SizeCache).
inline constexpr std::chrono::minutes kSizeMaxAge{5};

class SizeCache {
 public:
  using Clock = std::chrono::steady_clock;
  // Every object is sized again at least every `max_age`, whatever its fingerprint says: that
  // bounds what a change invisible to the counters (a load in a transaction still open, BRIN
  // summarization) can hide.
  // A changed object is sized again once `min_interval` has passed since it was last sized: for
  // objects whose sizing costs much (a database's is a walk over all its files) and which
  // change every cycle while written to.
  explicit SizeCache(Clock::duration max_age, Clock::duration min_interval = Clock::duration::zero());

  // The ids among `objects` to size now: those never sized, those whose fingerprint changed (and
  // sized at least min_interval ago), and
  // of the others the longest unsized, as many as keep each one within max_age — spread over the
  // cycles, so no cycle pays for all. Objects absent from `objects` are forgotten.
  std::vector<std::int64_t> due(const std::vector<SizedObject>& objects, Clock::time_point now);

  // Records the sizes read for `id` when its fingerprint was `fingerprint`.
  void store(std::int64_t id, std::string fingerprint, std::vector<metrics::Cell> sizes, Clock::time_point now);

  // The sizes last read for `id`, or nullptr when it was never sized.
  const std::vector<metrics::Cell>* sizes(std::int64_t id) const;

 private:
  struct Entry {
    std::string fingerprint;
    std::vector<metrics::Cell> sizes;
    Clock::time_point sized_at;
  };
  Clock::duration max_age_;
  Clock::duration min_interval_;
  std::map<std::int64_t, Entry> entries_;
  std::optional<Clock::time_point> last_due_;  // none before the first cycle
  double refresh_credit_ = 0;  // objects owed a refresh, fractions included
};

}  // namespace pga::agent::collectors
