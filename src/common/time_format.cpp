// The one RFC 3339 formatter (UTC, milliseconds), via fmt's chrono support.
#include "pganalytics/common/time_format.hpp"

#include <fmt/chrono.h>

namespace pga {

std::string rfc3339_utc(std::chrono::system_clock::time_point at) {
  const auto ms = std::chrono::floor<std::chrono::milliseconds>(at);
  const auto secs = std::chrono::floor<std::chrono::seconds>(ms);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(secs)),
                     (ms - secs).count());
}

}  // namespace pga
