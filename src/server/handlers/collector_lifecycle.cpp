// The collectors' lifecycle for admins (issue 14.6): disable (the agent is refused from its next
// request on, 403 collector_disabled with Retry-After, and keeps its spool; its refresh token
// stays valid for when it is enabled again), enable, rename, and delete with or without the
// data it sent (?keep_data=true, the default, keeps the server and its samples readable).
#include "pganalytics/server/audit_events.hpp"
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/json_body.hpp"
#include "pganalytics/server/session_repository.hpp"

namespace pga::server::handlers {
namespace {

awaitable<net::Response> set_status(ServerContext& ctx, net::Request& request, const Caller& caller,
                                    std::string status) {
  const auto& collector_id = request.path_param("id");
  bool changed = false;
  {
    auto lease = co_await ctx.pool->acquire();
    changed = co_await repo::set_collector_status(*lease, collector_id, status);
  }
  if (!changed) throw net::ApiError(404, "not_found", "no such collector");
  const std::string action = status == "active" ? "collector.enable" : "collector.disable";
  co_await audit_change(ctx, caller, request, action, collector_id);
  co_return json_response(200, {{"collector_id", collector_id}, {"status", status}});
}

bool keep_data(const net::Request& request) {
  const auto text = request.query_param("keep_data");
  if (!text || *text == "true") return true;
  if (*text == "false") return false;
  throw net::ApiError(400, "bad_parameter", "keep_data must be true or false");
}

}  // namespace

awaitable<net::Response> disable_collector(ServerContext& ctx, net::Request& request, const Caller& caller) {
  co_return co_await set_status(ctx, request, caller, "disabled");
}

awaitable<net::Response> enable_collector(ServerContext& ctx, net::Request& request, const Caller& caller) {
  co_return co_await set_status(ctx, request, caller, "active");
}

awaitable<net::Response> rename_collector(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto& collector_id = request.path_param("id");
  const auto body = parse_json_object(request.body);
  const auto name = required_string(body, "name", 200);
  bool renamed = false;
  {
    auto lease = co_await ctx.pool->acquire();
    renamed = co_await repo::rename_collector(*lease, collector_id, name);
  }
  if (!renamed) throw net::ApiError(404, "not_found", "no such collector");
  const auto detail = to_json({{"name", name}});
  co_await audit_change(ctx, caller, request, "collector.rename", collector_id, detail);
  co_return json_response(200, {{"collector_id", collector_id}, {"name", name}});
}

awaitable<net::Response> delete_collector(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto& collector_id = request.path_param("id");
  const bool keep = keep_data(request);
  bool deleted = false;
  {
    auto lease = co_await ctx.pool->acquire();
    co_await db::in_transaction(*lease, [&]() -> awaitable<void> {
      if (keep) co_await repo::revoke_collector_sessions(*lease, collector_id, "collector deleted");
      deleted = co_await repo::delete_collector(*lease, collector_id, keep);
    });
  }
  if (!deleted) throw net::ApiError(404, "not_found", "no such collector");
  const auto detail = to_json({{"keep_data", keep}});
  co_await audit_change(ctx, caller, request, "collector.delete", collector_id, detail);
  co_return no_content();
}

}  // namespace pga::server::handlers
