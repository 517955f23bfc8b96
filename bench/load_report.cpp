// Totals over all agents; rates are over the push window, from the first push to the last
// acknowledgement, so a server that falls behind shows a longer window and a lower rate.
#include "load_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "latency_summary.hpp"

namespace pga::bench {
namespace {

struct Totals {
  std::uint64_t stored = 0, duplicates = 0, overloaded = 0, transport_errors = 0, refused = 0, abandoned = 0;
  std::vector<double> latencies_ms;
  Clock::time_point last_ack{};
  std::string first_error;
};

Totals add_up(const PushOutcome& outcome) {
  Totals totals;
  totals.last_ack = outcome.start;
  for (const auto& agent : outcome.agents) {
    totals.stored += agent.stored_seq;
    totals.duplicates += agent.duplicates;
    totals.overloaded += agent.overloaded;
    totals.transport_errors += agent.transport_errors;
    totals.refused += agent.refused;
    totals.abandoned += agent.abandoned;
    totals.last_ack = std::max(totals.last_ack, agent.last_ack);
    if (totals.first_error.empty()) totals.first_error = agent.first_error;
    totals.latencies_ms.insert(totals.latencies_ms.end(), agent.latencies_ms.begin(), agent.latencies_ms.end());
  }
  return totals;
}

}  // namespace

std::uint64_t print_load_report(const LoadFigures& figures, const BatchShape& shape, const PushOutcome& outcome) {
  auto totals = add_up(outcome);
  const auto window_s = std::max(1e-3, std::chrono::duration<double>(totals.last_ack - outcome.start).count());
  const auto rows = static_cast<double>(totals.stored * shape.rows());
  const auto values = static_cast<double>(totals.stored * shape.values());
  const auto values_per_row = static_cast<double>(shape.values()) / static_cast<double>(shape.rows());
  const double offered_rows =
      figures.interval_s > 0 ? static_cast<double>(figures.agents * shape.rows()) / figures.interval_s : 0.0;
  const auto latency = summarize_latencies(std::move(totals.latencies_ms));

  fmt::print("batches: {} planned, {} stored ({} answered duplicate), {} still unstored at the end\n",
             figures.planned_batches, totals.stored, totals.duplicates, totals.abandoned);
  fmt::print("answers: {} x 503 (retried), {} transport errors (retried), {} refused\n", totals.overloaded,
             totals.transport_errors, totals.refused);
  if (!totals.first_error.empty()) fmt::print("first error: {}\n", totals.first_error);
  fmt::print("stored: {:.0f} rows/s, {:.0f} values/s over {:.1f} s (first push to last acknowledgement)\n",
             rows / window_s, values / window_s, window_s);
  if (offered_rows > 0)
    fmt::print("offered: {:.0f} rows/s, {:.0f} values/s\n", offered_rows, offered_rows * values_per_row);
  else
    fmt::print("offered: back-to-back (saturation)\n");
  fmt::print("push latency, send to 200: p50 {:.1f} ms, p95 {:.1f} ms, p99 {:.1f} ms, max {:.1f} ms ({} requests)\n",
             latency.p50_ms, latency.p95_ms, latency.p99_ms, latency.max_ms, latency.count);
  fmt::print("load generator CPU while pushing: {:.1f} s ({:.0f}% of one core)\n", figures.generator_cpu_s,
             100 * figures.generator_cpu_s / window_s);
  fmt::print(
      "RESULT stored_batches={} stored_rows={:.0f} window_s={:.3f} rows_per_s={:.0f} values_per_s={:.0f} "
      "offered_rows_per_s={:.0f} p50_ms={:.1f} p95_ms={:.1f} p99_ms={:.1f} max_ms={:.1f} overloaded={} "
      "transport_errors={} refused={} abandoned={} generator_cpu_s={:.1f}\n",
      totals.stored, rows, window_s, rows / window_s, values / window_s, offered_rows, latency.p50_ms, latency.p95_ms,
      latency.p99_ms, latency.max_ms, totals.overloaded, totals.transport_errors, totals.refused, totals.abandoned,
      figures.generator_cpu_s);
  return totals.stored;
}

}  // namespace pga::bench
