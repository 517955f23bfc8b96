// The one route table: (method, pattern) → handler, with {name} path segments. Unknown paths are
// 404 not_found, known paths with another method 405 method_not_allowed with an Allow header.
#pragma once
#include "pganalytics/net/http.hpp"

#include <boost/asio/awaitable.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pga::net {

// Handlers run concurrently on many strands: they must be safe to call from several threads.
using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;

class Router {
 public:
  // `pattern` is an absolute path whose segments are literals or {name}, e.g.
  // "/api/v1/config/{collector_id}". A malformed pattern or a duplicate route throws
  // std::invalid_argument at start-up, never at request time.
  void add(std::string method, std::string_view pattern, Handler handler);

  // Picks the handler for request.method and request.path and fills request.route and
  // request.path_params. Where several patterns match, a literal segment beats a {name} one.
  // Throws ApiError 404 / 405 (with Allow) / 400 (undecodable segment).
  const Handler& match(Request& request) const;

  struct Entry {
    std::string method;
    std::string pattern;
  };
  // Every route added, in order: what the server's start-up check compares with its table.
  std::vector<Entry> entries() const;

 private:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // a literal, or a parameter name with its braces
    Handler handler;
  };
  std::vector<Route> routes_;
};

}  // namespace pga::net
