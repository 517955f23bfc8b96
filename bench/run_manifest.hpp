// The record of one load run that the COPY reference needs to rebuild the very same rows: the
// sample clock, the batch size, and per agent its collector id and how many batches were stored.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace pga::bench {

struct AgentRecord {
  std::string collector_id;
  std::uint64_t stored_seq = 0;  // seqs 1..stored_seq were acknowledged as stored
};

struct RunManifest {
  std::int64_t start_unix_ms = 0;  // sample time of agent 0's first batch
  std::int64_t step_ms = 0;        // between one agent's samples; agents are spread over it
  std::size_t values = 0;          // the --values the batches were shaped for
  std::vector<AgentRecord> agents;

  // When agent `agent` sampled batch `seq` (from 1), to the millisecond.
  std::chrono::system_clock::time_point sample_time(std::size_t agent, std::uint64_t seq) const;
};

void write_manifest(const std::filesystem::path& path, const RunManifest& manifest);
// Throws std::runtime_error naming the file and line of anything it cannot read.
RunManifest read_manifest(const std::filesystem::path& path);

}  // namespace pga::bench
