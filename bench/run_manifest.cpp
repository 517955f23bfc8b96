// The manifest as a small text file: `key=value` lines for the run, then one tab-separated
// `agent <collector id> <stored seq>` line per agent in agent order.
#include "run_manifest.hpp"

#include <fmt/format.h>

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace pga::bench {

std::chrono::system_clock::time_point RunManifest::sample_time(std::size_t agent, std::uint64_t seq) const {
  const auto phase_ms = agents.empty() ? 0 : static_cast<std::int64_t>(agent) * step_ms / static_cast<std::int64_t>(agents.size());
  const auto ms = start_unix_ms + static_cast<std::int64_t>(seq - 1) * step_ms + phase_ms;
  return std::chrono::system_clock::time_point(std::chrono::milliseconds(ms));
}

void write_manifest(const std::filesystem::path& path, const RunManifest& manifest) {
  std::ofstream out(path);
  out << fmt::format("start_unix_ms={}\nstep_ms={}\nvalues={}\n", manifest.start_unix_ms, manifest.step_ms,
                     manifest.values);
  for (const auto& agent : manifest.agents) out << fmt::format("agent\t{}\t{}\n", agent.collector_id, agent.stored_seq);
  out.close();
  if (!out) throw std::runtime_error(fmt::format("cannot write the manifest {}", path.string()));
}

RunManifest read_manifest(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("cannot read the manifest {}", path.string()));
  RunManifest manifest;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::istringstream fields(line);
    std::string tag;
    if (line.starts_with("agent\t")) {
      AgentRecord agent;
      fields >> tag >> agent.collector_id >> agent.stored_seq;
      manifest.agents.push_back(agent);
    } else if (std::getline(fields, tag, '=')) {
      if (tag == "start_unix_ms") fields >> manifest.start_unix_ms;
      else if (tag == "step_ms") fields >> manifest.step_ms;
      else if (tag == "values") fields >> manifest.values;
      else fields.setstate(std::ios::failbit);
    }
    if (fields.fail()) throw std::runtime_error(fmt::format("{}:{}: cannot read \"{}\"", path.string(), number, line));
  }
  if (manifest.step_ms <= 0 || manifest.values == 0 || manifest.agents.empty())
    throw std::runtime_error(fmt::format("{}: not a complete manifest", path.string()));
  return manifest;
}

}  // namespace pga::bench
