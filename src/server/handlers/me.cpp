// What every signed-in user may do about themselves (CONTRACT §10): see who they are (with the
// role and servers in effect for this request), change their password (the current one is
// required and counted like a sign-in attempt), list and revoke their sessions.
#include "pganalytics/security/password.hpp"
#include "pganalytics/security/password_policy.hpp"
#include "pganalytics/security/ca.hpp"
#include "pganalytics/server/audit_events.hpp"
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/json_body.hpp"
#include "pganalytics/server/session_repository.hpp"

namespace pga::server::handlers {

awaitable<net::Response> me(ServerContext&, net::Request&, const Caller& caller) {
  const auto& user = *caller.user;
  boost::json::object answer{{"id", user.id},
                             {"username", user.username},
                             {"role", to_string(caller.role)},
                             {"account_role", user.role},
                             {"auth", caller.api_token_id ? "api_token" : "session"}};
  if (caller.servers) answer["server_ids"] = boost::json::array(caller.servers->begin(), caller.servers->end());
  else answer["server_ids"] = nullptr;
  if (caller.session_id) answer["session_id"] = *caller.session_id;
  if (caller.api_token_id) answer["api_token_id"] = *caller.api_token_id;
  co_return json_response(200, answer);
}

awaitable<net::Response> change_my_password(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto& user = *caller.user;
  const auto body = parse_json_object(request.body);
  const auto current = required_string(body, "current_password", security::kMaxPasswordBytes);
  const auto next = required_string(body, "new_password", security::kMaxPasswordBytes);
  if (auto problem = security::password_problem(user.username, next)) refuse_field("new_password", *problem);
  std::int64_t wait = 0;
  {
    auto lease = co_await ctx.pool->acquire();
    wait = co_await ctx.login_limiter.take_attempt(*lease, user.username, request.remote_address);
  }
  if (wait > 0)
    throw net::ApiError(429, "too_many_attempts", "too many password attempts; try again later")
        .with_header("Retry-After", std::to_string(wait));
  const bool current_ok = co_await ctx.hasher->verify(current, user.password_hash);
  if (!current_ok) {
    repo::AuditEntry entry{caller.actor(), "user.password", user.username, false, request.remote_address,
                           to_json({{"reason", "wrong current password"}})};
    co_await audit_throttled(ctx, std::move(entry));
    refuse_field("current_password", "is not your current password");
  }
  const auto hash = co_await ctx.hasher->hash(next);
  std::int64_t revoked = 0;
  {
    auto lease = co_await ctx.pool->acquire();
    co_await ctx.login_limiter.succeeded(*lease, user.username, request.remote_address);
    co_await repo::set_user_password(*lease, user.id, hash);
    // Whoever signed in with the old password is signed out; this session goes on.
    revoked = co_await repo::revoke_user_sessions(*lease, user.id, "password changed", caller.session_id);
  }
  const auto detail = to_json({{"sessions_revoked", revoked}});
  co_await audit_change(ctx, caller, request, "user.password", user.username,
                        detail);
  co_return json_response(200, {{"status", "password_changed"}, {"sessions_revoked", revoked}});
}

awaitable<net::Response> my_sessions(ServerContext& ctx, net::Request&, const Caller& caller) {
  auto lease = co_await ctx.pool->acquire();
  co_return raw_json_response(200, co_await repo::list_user_sessions(*lease, caller.user->id, caller.session_id));
}

awaitable<net::Response> revoke_my_session(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto& session_id = request.path_param("id");
  bool revoked = false;
  if (security::is_lowercase_uuid(session_id)) {
    auto lease = co_await ctx.pool->acquire();
    revoked = co_await repo::revoke_own_session(*lease, caller.user->id, session_id);
  }
  if (!revoked) throw net::ApiError(404, "not_found", "no such session");
  co_await audit_change(ctx, caller, request, "session.revoke", session_id);
  co_return no_content();
}

}  // namespace pga::server::handlers
