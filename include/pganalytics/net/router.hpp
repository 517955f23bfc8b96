// The one route table: (method, pattern) → handler, with {name} path segments and what body each
// route accepts. Unknown paths are 404 not_found, known paths with another method 405
// method_not_allowed with an Allow header.
//
// A route is matched on the request's headers alone: the session reads the body only when the
// handler asks for it (BodyReader), so a handler can authenticate first and an unauthenticated
// client never makes the server read, let alone inflate, a body.
#pragma once
#include "pganalytics/net/http.hpp"

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pga::net {

// What a route accepts as a body. The session refuses, before reading a byte of it, a body
// declared longer than `max_bytes` (413) and a Content-Encoding the route does not take (415).
struct BodyPolicy {
  std::size_t max_bytes = 256 * 1024;  // as sent, i.e. compressed when gzip
  bool gzip = false;                   // Content-Encoding: gzip accepted, inflated off the I/O threads
};

// Given to a handler to read the request's body once it has checked the headers.
class BodyReader {
 public:
  // Fills request.body (inflated when it came gzip-encoded) under the route's BodyPolicy and the
  // server's inflation limits. Throws ApiError: 413 too large, 400 malformed or bad gzip, 503
  // while the server inflates as much as it may at once. A second call does nothing.
  virtual boost::asio::awaitable<void> read(Request& request) = 0;

 protected:
  ~BodyReader() = default;
};

// Handlers run concurrently on many strands: they must be safe to call from several threads.
// A Handler gets the body already read; a StagedHandler reads it itself, after its checks.
using Handler = std::function<boost::asio::awaitable<Response>(Request&)>;
using StagedHandler = std::function<boost::asio::awaitable<Response>(Request&, BodyReader&)>;

class Router {
 public:
  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;  // a literal, or a parameter name with its braces
    StagedHandler handler;
    BodyPolicy body;
  };

  // `pattern` is an absolute path whose segments are literals or {name}, e.g.
  // "/api/v1/config/{collector_id}". A malformed pattern or a duplicate route throws
  // std::invalid_argument at start-up, never at request time.
  void add(std::string method, std::string_view pattern, StagedHandler handler, BodyPolicy body = {});
  void add(std::string method, std::string_view pattern, Handler handler, BodyPolicy body = {});

  // Picks the route for request.method and request.path and fills request.route and
  // request.path_params. Where several patterns match, a literal segment beats a {name} one.
  // Throws ApiError 404 / 405 (with Allow) / 400 (undecodable segment).
  const Route& match(Request& request) const;

  struct Entry {
    std::string method;
    std::string pattern;
  };
  // Every route added, in order: what the server's start-up check compares with its table.
  std::vector<Entry> entries() const;

 private:
  std::vector<Route> routes_;
};

}  // namespace pga::net
