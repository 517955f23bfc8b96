// Who is calling: an agent (client certificate from our CA + agent JWT + one identity across
// certificate, token and path, its session live) or a user (a user JWT whose session is live,
// or an API token). Every check reads the database's current state, so disabling, revoking or
// changing a role takes effect on the next request. Failures are ApiErrors 401/403.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <string>
#include <string_view>

#include "pganalytics/net/http.hpp"
#include "pganalytics/server/access.hpp"
#include "pganalytics/server/context.hpp"

namespace pga::server {

// What identifies an API token in a header, a log or a leak.
inline constexpr std::string_view kApiTokenPrefix = "pga_api_";

// The bearer token of the Authorization header; 401 when absent or malformed.
std::string bearer_token(const net::Request& request);

struct AgentIdentity {
  std::string collector_id;
  std::string session_id;
};
// Checks, in order: a verified client certificate, a valid agent access token naming a
// session, certificate = token subject = any {collector_id} in the path, the collector active
// (403 collector_disabled with Retry-After otherwise: the agent keeps its data and tries again
// later) and the session not revoked.
boost::asio::awaitable<AgentIdentity> authenticate_agent(ServerContext& ctx, net::Request& request);

// The signed-in user with their effective role and servers: through an access token (its
// session must be live) or an API token (unrevoked, unexpired; role and servers at most the
// owner's). The user must exist and be enabled.
boost::asio::awaitable<Caller> authenticate_user(ServerContext& ctx, net::Request& request);

}  // namespace pga::server
