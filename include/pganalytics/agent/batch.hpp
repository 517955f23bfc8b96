// The push batch of CONTRACT §5, serialised from collected samples.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "pganalytics/agent/spool.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent {

struct BatchHeader {
  std::string collector_id;
  std::string agent_version;
  std::string hostname;
};

std::string batch_json(const BatchHeader& header, std::uint64_t seq, const std::vector<metrics::Sample>& samples,
                       const std::vector<SeqRange>& dropped);

}  // namespace pga::agent
