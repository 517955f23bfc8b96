// Percentiles of request latencies (nearest rank), for the benchmark's report.
#pragma once
#include <cstddef>
#include <vector>

namespace pga::bench {

struct LatencySummary {
  std::size_t count = 0;
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0;
};

LatencySummary summarize_latencies(std::vector<double> latencies_ms);

}  // namespace pga::bench
