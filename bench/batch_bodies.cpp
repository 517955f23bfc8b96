// Body building is pure CPU work per agent, so agents are dealt round-robin to plain threads.
#include "batch_bodies.hpp"

#include <fmt/format.h>

#include <thread>

#include "pganalytics/agent/batch.hpp"
#include "pganalytics/net/gzip.hpp"
#include "pganalytics/version.hpp"

namespace pga::bench {
namespace {

std::string body_of(const RunManifest& manifest, const BatchShape& shape, std::size_t agent, std::uint64_t seq) {
  const agent::BatchHeader header{manifest.agents[agent].collector_id, kVersion,
                                  fmt::format("bench-host-{:04}.example", agent)};
  const auto samples = synthetic_samples(shape, agent, seq, manifest.sample_time(agent, seq));
  return net::deflate_gzip(agent::batch_json(header, seq, samples, {}));
}

}  // namespace

std::vector<std::vector<std::string>> build_bodies(const RunManifest& manifest, const BatchShape& shape,
                                                   const std::vector<std::size_t>& batches, unsigned threads) {
  std::vector<std::vector<std::string>> bodies(batches.size());
  auto build_share = [&](unsigned first) {
    for (std::size_t agent = first; agent < batches.size(); agent += threads)
      for (std::uint64_t seq = 1; seq <= batches[agent]; ++seq) bodies[agent].push_back(body_of(manifest, shape, agent, seq));
  };
  {
    std::vector<std::jthread> workers;  // joined at the end of this block, before `bodies` is returned
    for (unsigned t = 0; t < threads; ++t) workers.emplace_back(build_share, t);
  }
  return bodies;
}

}  // namespace pga::bench
