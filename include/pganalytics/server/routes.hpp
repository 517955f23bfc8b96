// The one route table of the server (CONTRACT §4).
#pragma once
#include "pganalytics/net/router.hpp"
#include "pganalytics/server/context.hpp"

namespace pga::server {

net::Router make_routes(ServerContext& ctx);

}  // namespace pga::server
