// Who is calling: an agent (client certificate from our CA + agent JWT + one identity across
// certificate, token and path) or a user (user JWT). Failures are ApiErrors 401/403.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>

#include "pganalytics/net/http.hpp"
#include "pganalytics/server/context.hpp"
#include "pganalytics/server/repository.hpp"

namespace pga::server {

// The bearer token of the Authorization header; 401 when absent or malformed.
std::string bearer_token(const net::Request& request);

// Returns the collector id. Checks, in order: a verified client certificate, a valid agent access
// token, certificate = token subject = any {collector_id} in the path, and that the collector is
// active in the database (so disabling one takes effect on its next request).
boost::asio::awaitable<std::string> authenticate_agent(ServerContext& ctx, net::Request& request);

// Returns the signed-in user, checked against the database (disabled users are refused).
boost::asio::awaitable<repo::UserRow> authenticate_user(ServerContext& ctx, net::Request& request);

}  // namespace pga::server
