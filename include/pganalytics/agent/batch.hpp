// The push batch of CONTRACT §5, serialised from collected samples.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "pganalytics/agent/spool.hpp"
#include "pganalytics/metrics/query_text.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent {

struct BatchHeader {
  std::string collector_id;
  std::string agent_version;
  std::string hostname;
};

// "query_texts" is left out when there are none.
std::string batch_json(const BatchHeader& header, std::uint64_t seq, const std::vector<metrics::Sample>& samples,
                       const std::vector<SeqRange>& dropped, const std::vector<metrics::QueryText>& query_texts = {});

}  // namespace pga::agent
