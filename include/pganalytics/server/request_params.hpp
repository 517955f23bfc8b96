// Reading path and query parameters the way every handler should: ids that are not positive
// integers name nothing (404, as an unknown id would), times are RFC 3339 or unix seconds within
// 1970-9999, and listings are read by pages (limit, cursor). Every bad value is a 400
// bad_parameter naming the parameter, never a database error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pganalytics/net/http.hpp"

namespace pga::server {

// A decimal id > 0, or nullopt.
std::optional<std::int64_t> positive_id(std::string_view text);
// The route's {id} as such an id; 404 "no such <noun>" otherwise.
std::int64_t path_id(const net::Request& request, std::string_view noun);

// The query parameter as unix seconds; nullopt when absent; 400 when neither RFC 3339 nor a
// finite number of unix seconds within years 1970-9999.
std::optional<double> time_param(const net::Request& request, std::string_view name);
inline constexpr double kLatestTime = 253402300799;  // 9999-12-31T23:59:59Z

// A positive integer query parameter within [1, max], `fallback` when absent; 400 otherwise.
std::int64_t count_param(const net::Request& request, std::string_view name, std::int64_t fallback, std::int64_t max);

// A page of a listing. `explicit_paging`: the client sent limit or cursor, and so gets the paged
// answer shape, {"items": [...], "next_cursor": ...}; without, the array of the first page.
struct PageRequest {
  std::size_t limit;
  std::vector<std::string> after;  // the key of the last item of the previous page; empty: start
  bool explicit_paging = false;
};
inline constexpr std::size_t kDefaultPage = 500;
inline constexpr std::size_t kMaxPage = 1000;

// `key_size`: how many values the listing's key has (e.g. [id], or [name, id]). A cursor is
// opaque to clients: base64url of the JSON array of the last item's key.
PageRequest page_param(const net::Request& request, std::size_t key_size);

// The answer for one page: `items` a JSON array text, `next` the key of its last item when more
// follow. Unpaged clients get the array and, when more follow, the next cursor in the
// X-Next-Cursor header and a Link rel="next".
net::Response page_response(const net::Request& request, const PageRequest& page, std::string items,
                            const std::optional<std::vector<std::string>>& next);

}  // namespace pga::server
