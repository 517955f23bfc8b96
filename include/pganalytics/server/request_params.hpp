// Reading path and query parameters the way every handler should: ids that are not positive
// integers name nothing (404, as an unknown id would), and times are RFC 3339 or unix seconds
// (400 naming the parameter otherwise).
#pragma once
#include <cstdint>
#include <optional>
#include <string_view>

#include "pganalytics/net/http.hpp"

namespace pga::server {

// A decimal id > 0, or nullopt.
std::optional<std::int64_t> positive_id(std::string_view text);
// The route's {id} as such an id; 404 "no such <noun>" otherwise.
std::int64_t path_id(const net::Request& request, std::string_view noun);

// The query parameter as unix seconds; nullopt when absent; 400 when neither RFC 3339 nor a
// finite number of unix seconds within years 0001-9999.
std::optional<double> time_param(const net::Request& request, std::string_view name);

// A positive integer query parameter within [1, max], `fallback` when absent; 400 otherwise.
std::int64_t count_param(const net::Request& request, std::string_view name, std::int64_t fallback, std::int64_t max);

}  // namespace pga::server
