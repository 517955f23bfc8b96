// The one route table of the server (CONTRACT §4, §9-§11): every route with the access it
// declares (access.hpp). A route cannot be added without one: RouteSpec has no default Access,
// and the server refuses to start when its router holds a route the table does not declare.
#pragma once
#include <span>
#include <string>
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

// Throws std::logic_error naming the route when `router` holds a route that `table` does not
// declare exactly once, or a row is inconsistent: no handler, a server scope on a path without
// {id}, session_only on a route that takes no user.
void check_route_table(std::span<const RouteSpec> table, const net::Router& router);

// The router for the table, checked by check_route_table: each handler runs, and its body is
// read, only after authorize() let the caller through.
net::Router make_routes(ServerContext& ctx);

// The table as JSON (`pganalytics server --print-routes`): [{"method","pattern","audience",
// "scope","session_only"}].
std::string route_table_json();

}  // namespace pga::server
