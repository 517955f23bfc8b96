// The push bodies of a run, built before the clock starts: CONTRACT §5 JSON from the synthetic
// samples, gzip-compressed as the agent's HTTPS client would, so the measured phase only sends.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "run_manifest.hpp"
#include "synthetic_metrics.hpp"

namespace pga::bench {

// bodies[agent][seq - 1] for `batches[agent]` batches of each agent, built on `threads` threads.
std::vector<std::vector<std::string>> build_bodies(const RunManifest& manifest, const BatchShape& shape,
                                                   const std::vector<std::size_t>& batches, unsigned threads);

}  // namespace pga::bench
