// Per-family collection settings (an interval and an enabled flag) as the server stores them in
// collectors.config and hands them to agents; one parser for both ends.
#pragma once
#include <boost/json/value.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace pga::metrics {

struct FamilySetting {
  std::optional<std::chrono::milliseconds> interval;
  bool enabled = true;
};

using FamilySettings = std::map<std::string, FamilySetting, std::less<>>;

// {"pg_stats_table": {"interval": "5m", "enabled": true}, ...}. Intervals below 1 s are refused,
// like in agent.toml, so a bad edit cannot turn an agent into a load generator. Throws
// std::runtime_error naming the offending entry.
FamilySettings parse_family_settings(const boost::json::value& collectors);

boost::json::object to_json(const FamilySettings& settings);

}  // namespace pga::metrics
