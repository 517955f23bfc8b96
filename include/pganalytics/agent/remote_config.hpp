// The per-collector settings the server hands out (GET /api/v1/config/{id}): an interval and an
// enabled flag per family, applied live by the scheduler.
#pragma once
#include <chrono>
#include <cstdint>
#include <string_view>

#include "pganalytics/metrics/collection_settings.hpp"

namespace pga::agent {

struct RemoteConfig {
  std::int64_t version = 0;
  metrics::FamilySettings families;

  std::chrono::milliseconds interval_for(std::string_view family, std::chrono::milliseconds fallback) const;
  bool enabled(std::string_view family) const;
};

// Parses the server's answer; throws std::runtime_error naming what is wrong.
RemoteConfig parse_remote_config(std::string_view json);

}  // namespace pga::agent
