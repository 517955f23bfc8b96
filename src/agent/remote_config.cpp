// Reading the server's per-collector configuration: its version and the family settings.
#include "pganalytics/agent/remote_config.hpp"

#include <boost/json.hpp>

#include <stdexcept>

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
  if (auto* collectors = root.if_contains("collectors")) config.families = metrics::parse_family_settings(*collectors);
  return config;
}

}  // namespace pga::agent
