// The audit log for admins (CONTRACT §10): GET /api/v1/audit pages through it newest first
// (from, to, actor, action filters; cursor = next_cursor of the previous page) and
// GET /api/v1/audit/verify recomputes the hash chain.
#include "pganalytics/server/audit_repository.hpp"
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/json_body.hpp"
#include "pganalytics/server/request_params.hpp"

namespace pga::server::handlers {
namespace {

std::optional<std::string> text_param(const net::Request& request, std::string_view name) {
  const auto text = request.query_param(name);
  if (!text) return std::nullopt;
  if (text->empty() || text->size() > 200 || text->find('\0') != std::string_view::npos)
    throw net::ApiError(400, "bad_parameter", std::string(name) + " must be 1 to 200 characters");
  return std::string(*text);
}

}  // namespace

awaitable<net::Response> list_audit(ServerContext& ctx, net::Request& request, const Caller&) {
  repo::AuditQuery query;
  query.from_unix = time_param(request, "from");
  query.to_unix = time_param(request, "to");
  query.actor = text_param(request, "actor");
  query.action = text_param(request, "action");
  if (const auto cursor = request.query_param("cursor")) {
    query.before_id = positive_id(*cursor);
    if (!query.before_id) throw net::ApiError(400, "bad_parameter", "cursor must be a next_cursor from this route");
  }
  query.limit = count_param(request, "limit", 100, 1000);
  auto lease = co_await ctx.pool->acquire();
  co_return raw_json_response(200, co_await repo::list_audit_json(*lease, query));
}

awaitable<net::Response> verify_audit(ServerContext& ctx, net::Request&, const Caller&) {
  auto lease = co_await ctx.pool->acquire();
  const auto verdict = co_await repo::verify_audit(*lease);
  boost::json::object answer{{"ok", verdict.ok}, {"checked", verdict.checked}};
  if (verdict.first_bad_id) answer["first_bad_id"] = *verdict.first_bad_id;
  else answer["first_bad_id"] = nullptr;
  co_return json_response(200, answer);
}

}  // namespace pga::server::handlers
