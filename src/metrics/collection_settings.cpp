// Parsing and writing the per-family collection settings of collectors.config.
#include "pganalytics/metrics/collection_settings.hpp"

#include <boost/json.hpp>

#include <stdexcept>

#include "pganalytics/common/units.hpp"

namespace pga::metrics {

FamilySettings parse_family_settings(const boost::json::value& collectors) {
  if (!collectors.is_object()) throw std::runtime_error("\"collectors\" must be an object");
  FamilySettings settings;
  for (const auto& [family, setting] : collectors.as_object()) {
    const std::string where = "collectors." + std::string(family);
    if (!setting.is_object()) throw std::runtime_error(where + " must be an object");
    FamilySetting parsed;
    for (const auto& [key, value] : setting.as_object()) {
      if (key == "interval") {
        auto duration = value.is_string() ? parse_duration(value.as_string()) : std::nullopt;
        if (!duration || *duration < std::chrono::seconds(1))
          throw std::runtime_error(where + ".interval must be a duration of at least 1s, like \"30s\"");
        parsed.interval = *duration;
      } else if (key == "enabled") {
        if (!value.is_bool()) throw std::runtime_error(where + ".enabled must be true or false");
        parsed.enabled = value.as_bool();
      } else {
        throw std::runtime_error(where + ": unknown setting \"" + std::string(key) + "\" (interval, enabled)");
      }
    }
    settings.emplace(std::string(family), parsed);
  }
  return settings;
}

boost::json::object to_json(const FamilySettings& settings) {
  boost::json::object out;
  for (const auto& [family, setting] : settings) {
    boost::json::object entry;
    if (setting.interval) entry["interval"] = format_duration(*setting.interval);
    entry["enabled"] = setting.enabled;
    out[family] = std::move(entry);
  }
  return out;
}

}  // namespace pga::metrics
