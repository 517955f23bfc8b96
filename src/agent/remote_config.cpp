// Reading the server's per-collector configuration. Intervals below 1 s are refused, like in
// agent.toml, so a bad server-side edit cannot turn the agent into a load generator.
#include "pganalytics/agent/remote_config.hpp"

#include <boost/json.hpp>

#include <stdexcept>

#include "pganalytics/common/units.hpp"

namespace pga::agent {

std::chrono::milliseconds RemoteConfig::interval_for(std::string_view family, std::chrono::milliseconds fallback) const {
  auto it = families.find(family);
  return it != families.end() && it->second.interval ? *it->second.interval : fallback;
}

bool RemoteConfig::enabled(std::string_view family) const {
  auto it = families.find(family);
  return it == families.end() || it->second.enabled;
}

RemoteConfig parse_remote_config(std::string_view text) {
  boost::system::error_code ec;
  auto value = boost::json::parse(text, ec);
  if (ec || !value.is_object()) throw std::runtime_error("the configuration is not a JSON object");
  const auto& root = value.as_object();
  RemoteConfig config;
  if (auto* version = root.if_contains("config_version"); version && version->is_int64())
    config.version = version->as_int64();
  auto* collectors = root.if_contains("collectors");
  if (!collectors) return config;
  if (!collectors->is_object()) throw std::runtime_error("\"collectors\" must be an object");
  for (const auto& [family, setting] : collectors->as_object()) {
    if (!setting.is_object()) throw std::runtime_error("collectors." + std::string(family) + " must be an object");
    FamilySetting parsed;
    if (auto* interval = setting.as_object().if_contains("interval")) {
      auto duration = interval->is_string() ? parse_duration(interval->as_string()) : std::nullopt;
      if (!duration || *duration < std::chrono::seconds(1))
        throw std::runtime_error("collectors." + std::string(family) + ".interval must be a duration of at least 1s");
      parsed.interval = *duration;
    }
    if (auto* enabled = setting.as_object().if_contains("enabled")) {
      if (!enabled->is_bool()) throw std::runtime_error("collectors." + std::string(family) + ".enabled must be a boolean");
      parsed.enabled = enabled->as_bool();
    }
    config.families.emplace(std::string(family), parsed);
  }
  return config;
}

}  // namespace pga::agent
