// Authentication of every protected route. The JWT's audience separates agents from users, so a
// user token never opens an agent route and the other way round.
#include "pganalytics/server/authenticate.hpp"

#include <chrono>

namespace pga::server {
namespace {

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

security::Claims verified_claims(const ServerContext& ctx, const net::Request& request, const char* audience) {
  auto claims = ctx.key_material.keys->verify(bearer_token(request), {kIssuer, audience, "access"}, now_unix());
  if (!claims)
    throw net::ApiError(401, "invalid_token",
                        "the access token is not valid: " + std::string(security::to_string(claims.error())))
        .with_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
  return *claims;
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

boost::asio::awaitable<std::string> authenticate_agent(ServerContext& ctx, net::Request& request) {
  if (!request.peer_certificate_cn)
    throw net::ApiError(401, "client_certificate_required",
                        "this route needs a client certificate issued by this server's CA");
  auto claims = verified_claims(ctx, request, kAgentAudience);
  if (claims.sub != *request.peer_certificate_cn)
    throw net::ApiError(403, "identity_mismatch", "the client certificate and the access token name different collectors");
  if (auto it = request.path_params.find("collector_id"); it != request.path_params.end() && it->second != claims.sub)
    throw net::ApiError(403, "identity_mismatch", "the path names another collector than the credentials");
  auto lease = co_await ctx.pool->acquire();
  auto status = co_await repo::collector_status(*lease, claims.sub);
  if (status != "active") throw net::ApiError(403, "collector_disabled", "this collector is disabled or deleted");
  co_return claims.sub;
}

boost::asio::awaitable<repo::UserRow> authenticate_user(ServerContext& ctx, net::Request& request) {
  auto claims = verified_claims(ctx, request, kUserAudience);
  if (!claims.sub.starts_with("user:")) throw net::ApiError(401, "invalid_token", "the access token has no user");
  std::int64_t id = 0;
  try {
    id = std::stoll(claims.sub.substr(5));
  } catch (const std::exception&) {
    throw net::ApiError(401, "invalid_token", "the access token has no user");
  }
  auto lease = co_await ctx.pool->acquire();
  auto user = co_await repo::find_user_by_id(*lease, id);
  if (!user || user->disabled) throw net::ApiError(403, "user_disabled", "this user is disabled or deleted");
  co_return *user;
}

}  // namespace pga::server
