// Authentication of every protected route. The JWT's audience separates agents from users, so a
// user token never opens an agent route and the other way round; the token's session (sid) is
// checked against the database on every request, in the same query that loads the user.
#include "pganalytics/server/authenticate.hpp"

#include <algorithm>
#include <chrono>
#include <iterator>

#include "pganalytics/security/random.hpp"
#include "pganalytics/server/session_repository.hpp"

namespace pga::server {
namespace {

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

net::ApiError unauthorized(const std::string& code, const std::string& message) {
  return net::ApiError(401, code, message).with_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
}

security::Claims verified_claims(const ServerContext& ctx, const net::Request& request, const char* audience) {
  auto claims = ctx.key_material.keys->verify(bearer_token(request), {kIssuer, audience, "access"}, now_unix());
  if (!claims)
    throw unauthorized("invalid_token",
                       "the access token is not valid: " + std::string(security::to_string(claims.error())));
  if (claims->sid.empty()) throw unauthorized("invalid_token", "the access token names no session; sign in again");
  return *claims;
}

std::int64_t user_id_of(const security::Claims& claims) {
  if (claims.sub.starts_with("user:")) {
    try {
      std::size_t used = 0;
      const auto id = std::stoll(claims.sub.substr(5), &used);
      if (used == claims.sub.size() - 5 && id > 0) return id;
    } catch (const std::exception&) {
    }
  }
  throw unauthorized("invalid_token", "the access token has no user");
}

std::vector<std::int64_t> intersection(const std::vector<std::int64_t>& a, std::vector<std::int64_t> b) {
  std::sort(b.begin(), b.end());
  std::vector<std::int64_t> both;
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
  return both;
}

Caller caller_for(const repo::UserRow& user, Role role) {
  Caller caller;
  caller.user = user;
  caller.role = role;
  return caller;
}

boost::asio::awaitable<Caller> authenticate_api_token(ServerContext& ctx, const net::Request& request,
                                                      const std::string& token) {
  auto lease = co_await ctx.pool->acquire();
  const auto use = co_await repo::use_api_token(*lease, security::hex(security::token_hash(token)),
                                                request.remote_address);
  if (!use || !use->usable) throw unauthorized("invalid_token", "the API token is unknown, expired or revoked");
  if (use->owner.disabled) throw unauthorized("user_disabled", "the API token's user is disabled");
  const auto owner_role = parse_role(use->owner.role).value_or(Role::Viewer);
  auto caller = caller_for(use->owner, lower_role(owner_role, parse_role(use->role).value_or(Role::Viewer)));
  caller.api_token_id = use->token_id;
  if (owner_role == Role::Admin) caller.servers = use->token_servers;
  else if (use->token_servers) caller.servers = intersection(use->owner_servers, *use->token_servers);
  else caller.servers = use->owner_servers;
  if (caller.servers) std::sort(caller.servers->begin(), caller.servers->end());
  co_return caller;
}

}  // namespace

std::string bearer_token(const net::Request& request) {
  auto header = request.header("Authorization");
  constexpr std::string_view kScheme = "Bearer ";
  if (!header || header->size() <= kScheme.size() || header->substr(0, kScheme.size()) != kScheme)
    throw net::ApiError(401, "missing_token", "an Authorization: Bearer token is required")
        .with_header("WWW-Authenticate", "Bearer");
  return std::string(header->substr(kScheme.size()));
}

boost::asio::awaitable<AgentIdentity> authenticate_agent(ServerContext& ctx, net::Request& request) {
  if (!request.peer_certificate_cn)
    throw net::ApiError(401, "client_certificate_required",
                        "this route needs a client certificate issued by this server's CA");
  auto claims = verified_claims(ctx, request, kAgentAudience);
  if (claims.sub != *request.peer_certificate_cn)
    throw net::ApiError(403, "identity_mismatch", "the client certificate and the access token name different collectors");
  if (auto it = request.path_params.find("collector_id"); it != request.path_params.end() && it->second != claims.sub)
    throw net::ApiError(403, "identity_mismatch", "the path names another collector than the credentials");
  auto lease = co_await ctx.pool->acquire();
  const auto collector = co_await repo::collector_with_session(*lease, claims.sub, claims.sid);
  if (!collector || collector->status != "active")
    throw net::ApiError(403, "collector_disabled", "this collector is disabled or deleted")
        .with_header("Retry-After", "10");
  if (!collector->session_live) throw unauthorized("session_revoked", "this collector's session was revoked");
  co_return AgentIdentity{claims.sub, claims.sid};
}

boost::asio::awaitable<Caller> authenticate_user(ServerContext& ctx, net::Request& request) {
  const auto token = bearer_token(request);
  if (token.starts_with(kApiTokenPrefix)) co_return co_await authenticate_api_token(ctx, request, token);
  const auto claims = verified_claims(ctx, request, kUserAudience);
  const auto id = user_id_of(claims);
  auto lease = co_await ctx.pool->acquire();
  const auto row = co_await repo::user_with_session(*lease, id, claims.sid);
  if (!row || row->user.disabled) throw unauthorized("user_disabled", "this user is disabled or deleted");
  if (!row->session_live) throw unauthorized("session_revoked", "this session was signed out or revoked; sign in again");
  auto caller = caller_for(row->user, parse_role(row->user.role).value_or(Role::Viewer));
  caller.session_id = claims.sid;
  if (caller.role != Role::Admin) caller.servers = row->servers;
  co_return caller;
}

}  // namespace pga::server
