// The agent's own check of a collected sample against the registry, before it is spooled: the
// server refuses a whole batch for one bad row, so a collector's mistake must stop here.
#pragma once
#include <optional>
#include <string>

#include "pganalytics/metrics/sample.hpp"

namespace pga::metrics {

// What is wrong with the sample (unknown family or column, a column twice, a missing instance,
// a row of the wrong width, a cell of the wrong type, a NULL key), or nullopt when the server
// will take it. Timestamps are checked as text only; the server parses them.
std::optional<std::string> sample_problem(const Sample& sample);

}  // namespace pga::metrics
