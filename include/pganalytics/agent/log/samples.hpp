// Classified log events as metric samples of family pg_log: the registry's columns in its
// order, one Sample per distinct event time, since a sample's time is its rows' time.
#pragma once
#include <chrono>
#include <string_view>
#include <vector>

#include "pganalytics/agent/log/event.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::log {

// Events whose time could not be read (an unknown zone abbreviation) take `fallback`, the
// collection time. Samples come in time order.
std::vector<metrics::Sample> to_samples(std::vector<LogEvent> events, std::string_view instance,
                                        std::chrono::system_clock::time_point fallback);

}  // namespace pga::agent::log
