// User management for admins (CONTRACT §10): list, create, change (role, disabled, password
// reset), delete, and the servers granted to a user. Disabling a user or resetting their password
// revokes their sessions; a role change applies from their next request (authorize() reads the
// current role every time). No change may leave the server without an enabled admin.
#include "pganalytics/security/password.hpp"
#include "pganalytics/security/password_policy.hpp"
#include "pganalytics/server/audit_events.hpp"
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/json_body.hpp"
#include "pganalytics/server/request_params.hpp"
#include "pganalytics/server/session_repository.hpp"
#include "pganalytics/server/user_repository.hpp"

namespace pga::server::handlers {
namespace {

std::string checked_role(const boost::json::object& body) {
  const auto role = required_string(body, "role", 16);
  if (!parse_role(role)) refuse_field("role", "must be admin, user or viewer");
  return role;
}

void check_password(const std::string& username, const std::string& password, std::string_view field) {
  if (auto problem = security::password_problem(username, password)) refuse_field(field, *problem);
}

[[noreturn]] void refuse(const repo::Refused& refused, std::string_view list_field = {}) {
  switch (refused.refusal) {
    case repo::Refusal::NotFound: throw net::ApiError(404, "not_found", "no such user");
    case repo::Refusal::NameTaken: throw net::ApiError(409, "name_taken", "a user of that name exists already");
    case repo::Refusal::LastAdmin:
      throw net::ApiError(409, "last_admin", "this would leave no enabled admin; make another user admin first");
    case repo::Refusal::UnknownId:
      refuse_field(std::string(list_field) + "[" + std::to_string(refused.index) + "]", "names no server");
  }
  throw net::ApiError(500, "internal_error", "unexpected refusal");
}

awaitable<net::Response> user_answer(ServerContext& ctx, int status, std::int64_t id) {
  auto lease = co_await ctx.pool->acquire();
  const auto user = co_await repo::user_json(*lease, id);
  if (!user) throw net::ApiError(404, "not_found", "no such user");
  co_return raw_json_response(status, *user);
}

}  // namespace

awaitable<net::Response> list_users(ServerContext& ctx, net::Request&, const Caller&) {
  auto lease = co_await ctx.pool->acquire();
  co_return raw_json_response(200, co_await repo::list_users_json(*lease));
}

awaitable<net::Response> create_user(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto body = parse_json_object(request.body);
  const auto username = required_string(body, "username", security::kMaxUsernameBytes);
  if (auto problem = security::username_problem(username)) refuse_field("username", *problem);
  const auto role = checked_role(body);
  const auto password = required_string(body, "password", security::kMaxPasswordBytes);
  check_password(username, password, "password");
  const auto hash = co_await ctx.hasher->hash(password);
  std::int64_t id = 0;
  {
    auto lease = co_await ctx.pool->acquire();
    const auto added = co_await repo::add_user(*lease, username, hash, role);
    if (const auto* refused = std::get_if<repo::Refused>(&added)) refuse(*refused);
    id = std::get<std::int64_t>(added);
  }
  const auto detail = to_json({{"id", id}, {"role", role}});
  co_await audit_change(ctx, caller, request, "user.create", username, detail);
  co_return co_await user_answer(ctx, 201, id);
}

awaitable<net::Response> update_user(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto id = path_id(request, "user");
  const auto body = parse_json_object(request.body);
  repo::UserChange change;
  if (body.contains("role")) change.role = checked_role(body);
  change.disabled = optional_bool(body, "disabled");
  const auto password = optional_string(body, "password", security::kMaxPasswordBytes);
  if (!change.role && !change.disabled && password.empty())
    throw net::ApiError(400, "missing_field", "give at least one of \"role\", \"disabled\", \"password\"");
  if (!password.empty()) {
    std::optional<repo::UserRow> current;
    {
      auto lease = co_await ctx.pool->acquire();
      current = co_await repo::find_user_by_id(*lease, id);
    }
    if (!current) throw net::ApiError(404, "not_found", "no such user");
    check_password(current->username, password, "password");
    change.password_hash = co_await ctx.hasher->hash(password);
  }
  std::string username;
  {
    auto lease = co_await ctx.pool->acquire();
    const auto changed = co_await repo::change_user(*lease, id, change);
    if (const auto* refused = std::get_if<repo::Refused>(&changed)) refuse(*refused);
    username = std::get<repo::UserRow>(changed).username;
    // Sessions end with the account, or with the password they were opened with.
    if (change.disabled == true) co_await repo::revoke_user_sessions(*lease, id, "user disabled");
    else if (change.password_hash) co_await repo::revoke_user_sessions(*lease, id, "password reset");
  }
  boost::json::object detail{{"id", id}};
  if (change.role) detail["role"] = *change.role;
  if (change.disabled) detail["disabled"] = *change.disabled;
  if (change.password_hash) detail["password_reset"] = true;
  co_await audit_change(ctx, caller, request, "user.update", username, to_json(detail));
  co_return co_await user_answer(ctx, 200, id);
}

awaitable<net::Response> delete_user(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto id = path_id(request, "user");
  std::string username;
  {
    auto lease = co_await ctx.pool->acquire();
    const auto removed = co_await repo::remove_user(*lease, id);
    if (const auto* refused = std::get_if<repo::Refused>(&removed)) refuse(*refused);
    username = std::get<repo::UserRow>(removed).username;
  }
  const auto detail = to_json({{"id", id}});
  co_await audit_change(ctx, caller, request, "user.delete", username, detail);
  co_return no_content();
}

awaitable<net::Response> set_user_servers(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto id = path_id(request, "user");
  const auto body = parse_json_object(request.body);
  const auto server_ids = required_ids(body, "server_ids");
  std::vector<std::int64_t> granted;
  {
    auto lease = co_await ctx.pool->acquire();
    const auto set = co_await repo::set_user_servers(*lease, id, server_ids);
    if (const auto* refused = std::get_if<repo::Refused>(&set)) refuse(*refused, "server_ids");
    granted = std::get<std::vector<std::int64_t>>(set);
  }
  boost::json::array ids(granted.begin(), granted.end());
  const auto detail = to_json({{"server_ids", ids}});
  co_await audit_change(ctx, caller, request, "user.servers", std::to_string(id), detail);
  co_return json_response(200, {{"user_id", id}, {"server_ids", ids}});
}

}  // namespace pga::server::handlers
