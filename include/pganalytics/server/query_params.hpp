// Query parameters that several read routes share: times (RFC 3339 or unix seconds, within
// 1970-9999: anything else is a 400, never a database error) and pages of a listing (limit,
// cursor). Every failure is a 400 bad_parameter naming the parameter.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pganalytics/net/http.hpp"

namespace pga::server {

// Seconds since the Unix epoch, `fallback` when the parameter is absent.
double time_param(const net::Request& request, std::string_view name, double fallback);
inline constexpr double kLatestTime = 253402300799;  // 9999-12-31T23:59:59Z

// A page of a listing. `explicit_paging`: the client sent limit or cursor, and so gets the paged
// answer shape, {"items": [...], "next_cursor": ...}; without, the array of the first page.
struct PageRequest {
  std::size_t limit;
  std::vector<std::string> after;  // the key of the last item of the previous page; empty: start
  bool explicit_paging = false;
};
inline constexpr std::size_t kDefaultPage = 500;
inline constexpr std::size_t kMaxPage = 1000;

// `key_size`: how many values the listing's key has (e.g. [id], or [name, id]).
PageRequest page_param(const net::Request& request, std::size_t key_size);

// The answer for one page: `items` a JSON array text, `next` the key of its last item when more
// follow. Unpaged clients get the array and, when more follow, the next cursor in the
// X-Next-Cursor header and a Link rel="next".
net::Response page_response(const net::Request& request, const PageRequest& page, std::string items,
                            const std::optional<std::vector<std::string>>& next);

}  // namespace pga::server
