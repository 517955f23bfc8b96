// Deterministic, realistic-looking samples for the ingest benchmark: what one simulated agent
// collects at one instant, a pure function of (agent, seq, time), so a second run rebuilds them.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "pganalytics/metrics/sample.hpp"

namespace pga::bench {

// How many rows of each family make up one batch of about `values` cells: one sysstat row,
// pg_stats_database rows for a few databases, and as many pg_stats_table rows as fill the rest.
struct BatchShape {
  std::size_t databases = 3;
  std::size_t tables = 0;

  static BatchShape for_values(std::size_t values);
  std::size_t rows() const;
  std::size_t values() const;  // cells per batch, exactly
};

// Counters grow with `seq`, gauges wobble around a per-object level, a quarter of the
// timestamp attributes are NULL; the same arguments always give the same rows.
std::vector<metrics::Sample> synthetic_samples(const BatchShape& shape, std::size_t agent, std::uint64_t seq,
                                               std::chrono::system_clock::time_point at);

}  // namespace pga::bench
