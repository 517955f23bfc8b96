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

struct RouteSpec {
  std::string_view method;
  std::string_view pattern;
  Access access;
  RouteHandler handler;
};

// Every route, in the order the router receives them; tests generate the access matrix from it.
std::span<const RouteSpec> route_table();

// The router for the table: each handler runs only after authorize() let the caller through.
net::Router make_routes(ServerContext& ctx);

}  // namespace pga::server
