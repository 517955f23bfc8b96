// Teams for admins: a team's servers are granted to each of its members (besides the servers
// granted to a user directly). Members and servers are replaced whole by PUT.
#include "pganalytics/server/audit_events.hpp"
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/json_body.hpp"
#include "pganalytics/server/request_params.hpp"
#include "pganalytics/server/user_repository.hpp"

namespace pga::server::handlers {
namespace {

[[noreturn]] void refuse(const repo::Refused& refused, std::string_view list_field, std::string_view noun) {
  if (refused.refusal == repo::Refusal::NameTaken)
    throw net::ApiError(409, "name_taken", "a team of that name exists already");
  if (refused.refusal == repo::Refusal::UnknownId)
    refuse_field(std::string(list_field) + "[" + std::to_string(refused.index) + "]", "names no " + std::string(noun));
  throw net::ApiError(404, "not_found", "no such team");
}

awaitable<net::Response> team_answer(ServerContext& ctx, int status, std::int64_t id) {
  auto lease = co_await ctx.pool->acquire();
  const auto team = co_await repo::team_json(*lease, id);
  if (!team) throw net::ApiError(404, "not_found", "no such team");
  co_return raw_json_response(status, *team);
}

// PUT .../members and .../servers: one list of ids replacing the team's.
awaitable<net::Response> set_team_list(ServerContext& ctx, net::Request& request, const Caller& caller,
                                       std::string_view field, std::string_view noun) {
  const auto id = path_id(request, "team");
  const auto body = parse_json_object(request.body);
  const auto ids = required_ids(body, field);
  {
    auto lease = co_await ctx.pool->acquire();
    repo::Outcome<bool> set = repo::Refused{repo::Refusal::NotFound};
    if (noun == "user") set = co_await repo::set_team_members(*lease, id, ids);
    else set = co_await repo::set_team_servers(*lease, id, ids);
    if (const auto* refused = std::get_if<repo::Refused>(&set)) refuse(*refused, field, noun);
  }
  const auto detail = to_json({{std::string(field), boost::json::array(ids.begin(), ids.end())}});
  co_await audit_change(ctx, caller, request, "team." + std::string(noun == "user" ? "members" : "servers"),
                        std::to_string(id), detail);
  co_return co_await team_answer(ctx, 200, id);
}

}  // namespace

awaitable<net::Response> list_teams(ServerContext& ctx, net::Request&, const Caller&) {
  auto lease = co_await ctx.pool->acquire();
  co_return raw_json_response(200, co_await repo::list_teams_json(*lease));
}

awaitable<net::Response> create_team(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto body = parse_json_object(request.body);
  const auto name = required_string(body, "name", 64);
  std::int64_t id = 0;
  {
    auto lease = co_await ctx.pool->acquire();
    const auto added = co_await repo::add_team(*lease, name);
    if (const auto* refused = std::get_if<repo::Refused>(&added)) refuse(*refused, "", "");
    id = std::get<std::int64_t>(added);
  }
  const auto detail = to_json({{"id", id}});
  co_await audit_change(ctx, caller, request, "team.create", name, detail);
  co_return co_await team_answer(ctx, 201, id);
}

awaitable<net::Response> delete_team(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto id = path_id(request, "team");
  bool removed = false;
  {
    auto lease = co_await ctx.pool->acquire();
    removed = co_await repo::remove_team(*lease, id);
  }
  if (!removed) throw net::ApiError(404, "not_found", "no such team");
  co_await audit_change(ctx, caller, request, "team.delete", std::to_string(id));
  co_return no_content();
}

awaitable<net::Response> set_team_members(ServerContext& ctx, net::Request& request, const Caller& caller) {
  co_return co_await set_team_list(ctx, request, caller, "user_ids", "user");
}

awaitable<net::Response> set_team_servers(ServerContext& ctx, net::Request& request, const Caller& caller) {
  co_return co_await set_team_list(ctx, request, caller, "server_ids", "server");
}

}  // namespace pga::server::handlers
