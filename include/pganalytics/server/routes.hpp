// The one route table of the server (CONTRACT §4, §9-§11): every route with the access it
// declares (access.hpp). A route cannot be added without one: RouteSpec has no default Access.
#pragma once
#include <span>
#include <string_view>

#include "pganalytics/net/router.hpp"
#include "pganalytics/server/access.hpp"
#include "pganalytics/server/context.hpp"

namespace pga::server {

using RouteHandler = boost::asio::awaitable<net::Response> (*)(ServerContext&, net::Request&, const Caller&);

// The bodies a route takes: small and uncompressed unless it says otherwise.
inline constexpr net::BodyPolicy kSmallBody{};
// A push batch: up to 8 MiB as sent, gzip accepted (CONTRACT §5).
inline constexpr net::BodyPolicy kBatchBody{8 * 1024 * 1024, true};

struct RouteSpec {
  std::string_view method;
  std::string_view pattern;
  Access access;
  RouteHandler handler;
  net::BodyPolicy body = kSmallBody;  // read only once authorize() let the caller through
};

// Every route, in the order the router receives them; tests generate the access matrix from it.
std::span<const RouteSpec> route_table();

// The router for the table: each handler runs, and its body is read, only after authorize() let
// the caller through.
net::Router make_routes(ServerContext& ctx);

}  // namespace pga::server
