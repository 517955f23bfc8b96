// API tokens for scripts and Grafana (CONTRACT §10): every user lists and revokes their own,
// admins all of them. A token is created from a signed-in session only (the route is
// session_only), with a role at most the caller's and optionally fewer servers than the
// caller sees; its text (pga_api_…) is in the 201 answer and nowhere else.
#include <boost/json/parse.hpp>

#include <algorithm>

#include "pganalytics/common/units.hpp"
#include "pganalytics/security/random.hpp"
#include "pganalytics/server/audit_events.hpp"
#include "pganalytics/server/authenticate.hpp"
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/json_body.hpp"
#include "pganalytics/server/request_params.hpp"
#include "pganalytics/server/user_repository.hpp"

namespace pga::server::handlers {
namespace {

constexpr std::int64_t kMinTtlSeconds = 60;
constexpr std::int64_t kMaxTtlSeconds = 3650LL * 86'400;

Role token_role(const boost::json::object& body, const Caller& caller) {
  const auto text = optional_string(body, "role", 16);
  if (text.empty()) return caller.role;
  const auto role = parse_role(text);
  if (!role) refuse_field("role", "must be admin, user or viewer");
  if (static_cast<int>(*role) > static_cast<int>(caller.role))
    refuse_field("role", "may be at most your own role (" + std::string(to_string(caller.role)) + ")");
  return *role;
}

std::int64_t ttl_seconds(const boost::json::object& body) {
  auto text = optional_string(body, "ttl", 32);
  if (text.empty()) text = "90d";
  const auto ttl = parse_duration(text);
  const auto seconds = ttl ? std::chrono::duration_cast<std::chrono::seconds>(*ttl).count() : 0;
  if (!ttl || seconds < kMinTtlSeconds || seconds > kMaxTtlSeconds)
    refuse_field("ttl", "must be a duration from 1m to 3650d, e.g. \"90d\"");
  return seconds;
}

// A narrower scope: only servers the caller sees, and none for an admin token (admins see all).
awaitable<std::optional<std::vector<std::int64_t>>> token_servers(ServerContext& ctx, const boost::json::object& body,
                                                                  const Caller& caller, Role role) {
  auto ids = optional_ids(body, "server_ids");
  if (!ids) co_return std::nullopt;
  if (role == Role::Admin) refuse_field("server_ids", "cannot narrow an admin token: give it a lower role");
  for (std::size_t i = 0; i < ids->size(); ++i)
    if (caller.servers && !caller.sees((*ids)[i]))
      refuse_field("server_ids[" + std::to_string(i) + "]", "is not one of your servers");
  auto lease = co_await ctx.pool->acquire();
  if (const auto unknown = co_await repo::first_unknown_server(*lease, *ids))
    refuse_field("server_ids[" + std::to_string(*unknown) + "]", "names no server");
  std::sort(ids->begin(), ids->end());
  co_return ids;
}

std::optional<std::int64_t> visible_owner(const Caller& caller) {
  if (caller.role == Role::Admin) return std::nullopt;
  return caller.user->id;
}

}  // namespace

awaitable<net::Response> list_api_tokens(ServerContext& ctx, net::Request&, const Caller& caller) {
  auto lease = co_await ctx.pool->acquire();
  co_return raw_json_response(200, co_await repo::list_api_tokens_json(*lease, visible_owner(caller)));
}

awaitable<net::Response> create_api_token(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto body = parse_json_object(request.body);
  const auto name = required_string(body, "name", 100);
  const auto role = token_role(body, caller);
  const auto ttl = ttl_seconds(body);
  const auto servers = co_await token_servers(ctx, body, caller, role);
  const auto token = security::new_opaque_token(kApiTokenPrefix);
  const repo::NewApiToken row{caller.user->id, name, std::string(to_string(role)), servers, ttl,
                              security::hex(security::token_hash(token)), caller.actor()};
  std::string created;
  {
    auto lease = co_await ctx.pool->acquire();
    created = co_await repo::add_api_token(*lease, row);
  }
  auto answer = boost::json::parse(created).as_object();
  answer["token"] = token;
  const auto detail = to_json({{"id", answer.at("id")}, {"role", to_string(role)}, {"ttl_seconds", ttl}});
  co_await audit_change(ctx, caller, request, "api_token.create", name,
                        detail);
  co_return json_response(201, answer);
}

awaitable<net::Response> revoke_api_token(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto id = path_id(request, "API token");
  std::optional<std::string> name;
  {
    auto lease = co_await ctx.pool->acquire();
    name = co_await repo::revoke_api_token(*lease, id, visible_owner(caller));
  }
  if (!name) throw net::ApiError(404, "not_found", "no such API token");
  const auto detail = to_json({{"id", id}});
  co_await audit_change(ctx, caller, request, "api_token.revoke", *name, detail);
  co_return no_content();
}

}  // namespace pga::server::handlers
