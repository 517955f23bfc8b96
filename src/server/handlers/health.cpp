// GET /api/v1/health (no authentication: is the storage database answering?) and GET /metrics
// (the server's own Prometheus metrics).
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/json_body.hpp"
#include "pganalytics/version.hpp"

namespace pga::server::handlers {

awaitable<net::Response> health(ServerContext& ctx, net::Request&, const Caller&) {
  std::string database = "ok";
  try {
    auto lease = co_await ctx.pool->acquire(std::chrono::seconds(2));
    co_await lease->query("SELECT 1", {}, std::chrono::seconds(2));
  } catch (const db::DbError&) {
    database = "unavailable";
  }
  const bool ok = database == "ok";
  co_return json_response(ok ? 200 : 503, {{"status", ok ? "ok" : "degraded"}, {"version", kVersion}, {"database", database}});
}

awaitable<net::Response> self_metrics(ServerContext& ctx, net::Request&, const Caller&) {
  net::Response response;
  response.content_type = "text/plain; version=0.0.4; charset=utf-8";
  response.body = ctx.metrics.registry.render();
  co_return response;
}

}  // namespace pga::server::handlers
