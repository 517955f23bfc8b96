// User sign-in and sign-out, and token refresh for users and agents. Password checks run on the
// CPU pool (argon2id takes tens of milliseconds and must not stall the event loop).
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pganalytics/security/password.hpp"
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/json_body.hpp"
#include "pganalytics/server/sessions.hpp"

namespace pga::server::handlers {
namespace {

// A valid hash to check against when the user does not exist, so timing does not reveal names.
const std::string& decoy_hash() {
  static const std::string hash = security::argon2id_hash_encoded("pganalytics-decoy-password");
  return hash;
}

awaitable<bool> verify_password_task(std::string password, std::string encoded) {
  co_return security::verify_password(password, encoded);
}

// A free coroutine rather than a capturing lambda: GCC 12 mishandles lambda captures in co_spawn.
awaitable<bool> verify_on_cpu_pool(ServerContext& ctx, std::string password, std::string encoded) {
  co_return co_await boost::asio::co_spawn(ctx.cpu_pool, verify_password_task(std::move(password), std::move(encoded)),
                                           boost::asio::use_awaitable);
}

net::Response token_response(const TokenPair& tokens) {
  return json_response(200, {{"access_token", tokens.access_token},
                             {"refresh_token", tokens.refresh_token},
                             {"expires_in", tokens.expires_in},
                             {"token_type", "Bearer"}});
}

}  // namespace

awaitable<net::Response> login(ServerContext& ctx, net::Request& request, const Caller&) {
  auto body = parse_json_object(request.body);
  const auto username = required_string(body, "username", 64);
  const auto password = required_string(body, "password", security::kMaxPasswordBytes);
  if (auto wait = ctx.login_limiter.retry_after(username, request.remote_address); wait > 0)
    throw net::ApiError(429, "too_many_attempts", "too many failed sign-ins; try again later")
        .with_header("Retry-After", std::to_string(wait));

  auto lease = co_await ctx.pool->acquire();
  auto user = co_await repo::find_user_by_name(*lease, username);
  const std::string stored_hash = user ? user->password_hash : decoy_hash();
  const bool password_ok = co_await verify_on_cpu_pool(ctx, password, stored_hash);
  if (!user || !password_ok || user->disabled) {
    ctx.login_limiter.record_failure(username, request.remote_address);
    const repo::AuditEntry entry{username, "auth.login", username, false, request.remote_address};
    co_await repo::audit(*lease, entry);
    throw net::ApiError(401, "invalid_credentials", "unknown user name or wrong password");
  }
  ctx.login_limiter.record_success(username, request.remote_address);
  const repo::RefreshOwner owner{user->id, std::nullopt};
  auto tokens = co_await start_session(ctx, *lease, owner);
  co_await repo::touch_user_login(*lease, user->id);
  const repo::AuditEntry entry{username, "auth.login", username, true, request.remote_address};
  co_await repo::audit(*lease, entry);
  co_return token_response(tokens);
}

awaitable<net::Response> logout(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto& user = *caller.user;
  auto body = parse_json_object(request.body);
  auto lease = co_await ctx.pool->acquire();
  const auto refresh_token = required_string(body, "refresh_token", 256);
  const repo::RefreshOwner owner{user.id, std::nullopt};
  const bool revoked = co_await end_session(*lease, refresh_token, owner);
  if (!revoked) throw net::ApiError(400, "invalid_refresh_token", "that refresh token is not one of your sessions");
  const repo::AuditEntry entry{user.username, "auth.logout", user.username, true, request.remote_address};
  co_await repo::audit(*lease, entry);
  co_return json_response(200, {{"status", "signed_out"}});
}

awaitable<net::Response> refresh(ServerContext& ctx, net::Request& request, const Caller&) {
  auto body = parse_json_object(request.body);
  auto lease = co_await ctx.pool->acquire();
  const auto refresh_token = required_string(body, "refresh_token", 256);
  auto tokens = co_await refresh_session(ctx, *lease, refresh_token, request.peer_certificate_cn,
                                         request.remote_address);
  co_return token_response(tokens);
}

}  // namespace pga::server::handlers
