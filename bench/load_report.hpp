// What a load run prints: batches, answers, stored and offered rates, push latency percentiles
// and the generator's own CPU, plus one `RESULT key=value ...` line for scripts.
#pragma once
#include <cstddef>
#include <string>

#include "push_agents.hpp"
#include "synthetic_metrics.hpp"

namespace pga::bench {

struct LoadFigures {
  std::size_t agents = 0;
  double interval_s = 0;  // 0: back-to-back
  std::size_t planned_batches = 0;
  double generator_cpu_s = 0;
};

// Prints the report of `outcome`; returns how many batches were stored.
std::uint64_t print_load_report(const LoadFigures& figures, const BatchShape& shape, const PushOutcome& outcome);

}  // namespace pga::bench
