// User sign-in and sign-out, and token refresh for users and agents. A sign-in attempt is counted
// in the database before its password is checked (login_limiter.hpp); the check runs on the
// password hashing threads (password_hasher.hpp), with no database connection held meanwhile.
// An unknown user is checked against a decoy hash, so both failures cost the same and answer the
// same.
#include "pganalytics/security/password.hpp"
#include "pganalytics/security/password_policy.hpp"
#include "pganalytics/server/audit_events.hpp"
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/json_body.hpp"
#include "pganalytics/server/session_repository.hpp"
#include "pganalytics/server/sessions.hpp"

namespace pga::server::handlers {
namespace {

// A valid hash to check against when the user does not exist, so timing does not reveal names.
const std::string& decoy_hash() {
  static const std::string hash = security::argon2id_hash_encoded("pganalytics-decoy-password");
  return hash;
}

net::Response token_response(const TokenPair& tokens) {
  return json_response(200, {{"access_token", tokens.access_token},
                             {"refresh_token", tokens.refresh_token},
                             {"expires_in", tokens.expires_in},
                             {"token_type", "Bearer"}});
}

repo::AuditEntry login_entry(const std::string& username, bool success, const net::Request& request,
                             const std::string& reason = {}) {
  repo::AuditEntry entry{success ? "user:" + username : "anonymous", "auth.login", username, success,
                         request.remote_address};
  if (!reason.empty()) entry.detail_json = to_json({{"reason", reason}});
  return entry;
}

// The body of POST /api/v1/auth/logout may be empty (the caller's own session ends).
boost::json::object optional_body(const net::Request& request) {
  if (request.body.empty()) return {};
  return parse_json_object(request.body);
}

}  // namespace

awaitable<net::Response> login(ServerContext& ctx, net::Request& request, const Caller&) {
  auto body = parse_json_object(request.body);
  const auto username = required_string(body, "username", security::kMaxUsernameBytes);
  const auto password = required_string(body, "password", security::kMaxPasswordBytes);

  std::optional<repo::UserRow> user;
  std::int64_t wait = 0;
  {
    auto lease = co_await ctx.pool->acquire();
    wait = co_await ctx.login_limiter.take_attempt(*lease, username, request.remote_address);
    if (wait == 0) user = co_await repo::find_user_by_name(*lease, username);
  }
  if (wait > 0) {
    co_await audit_throttled(ctx, login_entry(username, false, request, "throttled"));
    throw net::ApiError(429, "too_many_attempts", "too many sign-in attempts; try again later")
        .with_header("Retry-After", std::to_string(wait));
  }
  const std::string& decoy = decoy_hash();  // made at the first sign-in, whoever signs in
  const std::string stored_hash = user ? user->password_hash : decoy;
  const bool password_ok = co_await ctx.hasher->verify(password, stored_hash);
  if (!user || !password_ok || user->disabled) {
    co_await audit_throttled(ctx, login_entry(username, false, request));
    throw net::ApiError(401, "invalid_credentials", "unknown user name or wrong password");
  }
  auto lease = co_await ctx.pool->acquire();
  co_await ctx.login_limiter.succeeded(*lease, username, request.remote_address);
  const repo::RefreshOwner owner{user->id, std::nullopt};
  auto tokens = co_await start_session(ctx, *lease, owner, request.remote_address);
  co_await repo::touch_user_login(*lease, user->id);
  auto entry = login_entry(username, true, request);
  entry.detail_json = to_json({{"session", tokens.session_id}});
  co_await repo::audit(*lease, entry);
  co_return token_response(tokens);
}

awaitable<net::Response> logout(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto& user = *caller.user;
  auto body = optional_body(request);
  const auto refresh_token = optional_string(body, "refresh_token", 256);
  auto lease = co_await ctx.pool->acquire();
  std::optional<std::string> session = caller.session_id;
  if (!refresh_token.empty()) {
    const repo::RefreshOwner owner{user.id, std::nullopt};
    session = co_await session_of(*lease, refresh_token, owner);
    if (!session) throw net::ApiError(400, "invalid_refresh_token", "that refresh token is not one of your sessions");
  }
  if (!session) throw net::ApiError(400, "no_session", "an API token has no session to sign out of");
  co_await repo::revoke_session(*lease, *session, "signed out");
  const repo::AuditEntry entry{caller.actor(), "auth.logout", user.username, true, request.remote_address,
                               to_json({{"session", *session}})};
  co_await repo::audit(*lease, entry);
  co_return json_response(200, {{"status", "signed_out"}});
}

awaitable<net::Response> refresh(ServerContext& ctx, net::Request& request, const Caller&) {
  auto body = parse_json_object(request.body);
  const auto refresh_token = required_string(body, "refresh_token", 256);
  auto lease = co_await ctx.pool->acquire();
  auto tokens = co_await refresh_session(ctx, *lease, refresh_token, request.peer_certificate_cn,
                                         request.remote_address);
  co_return token_response(tokens);
}

}  // namespace pga::server::handlers
