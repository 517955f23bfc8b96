// Timestamps as the product writes them everywhere (logs, batches, samples): RFC 3339 in UTC
// with milliseconds, e.g. "2026-11-24T12:00:00.123Z".
#pragma once
#include <chrono>
#include <string>

namespace pga {

std::string rfc3339_utc(std::chrono::system_clock::time_point at);

}  // namespace pga
