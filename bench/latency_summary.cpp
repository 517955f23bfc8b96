// Nearest-rank percentiles over all samples kept in memory: a run has at most a few hundred
// thousand requests, so exact figures cost less than a histogram's bucketing error.
#include "latency_summary.hpp"

#include <algorithm>
#include <cmath>

namespace pga::bench {
namespace {

double percentile(const std::vector<double>& sorted, double p) {
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1];
}

}  // namespace

LatencySummary summarize_latencies(std::vector<double> latencies_ms) {
  LatencySummary summary;
  summary.count = latencies_ms.size();
  if (latencies_ms.empty()) return summary;
  std::sort(latencies_ms.begin(), latencies_ms.end());
  summary.p50_ms = percentile(latencies_ms, 50);
  summary.p95_ms = percentile(latencies_ms, 95);
  summary.p99_ms = percentile(latencies_ms, 99);
  summary.max_ms = latencies_ms.back();
  return summary;
}

}  // namespace pga::bench
