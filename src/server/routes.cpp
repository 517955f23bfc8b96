// Every route the server answers, in one table. Database unavailability becomes 503 with
// Retry-After here, for every route alike; other failures are mapped by net::to_response.
#include "pganalytics/server/routes.hpp"

#include "pganalytics/server/handlers.hpp"

namespace pga::server {
namespace {

using HandlerFn = boost::asio::awaitable<net::Response> (*)(ServerContext&, net::Request&);

net::Handler bind(ServerContext& ctx, HandlerFn fn) {
  return [&ctx, fn](net::Request& request) -> boost::asio::awaitable<net::Response> {
    try {
      co_return co_await fn(ctx, request);
    } catch (const db::DbUnavailable&) {
      throw net::ApiError(503, "database_unavailable", "the storage database is unavailable; retry later")
          .with_header("Retry-After", "5");
    }
  };
}

}  // namespace

net::Router make_routes(ServerContext& ctx) {
  net::Router router;
  router.add("GET", "/api/v1/health", bind(ctx, handlers::health));
  router.add("GET", "/metrics", bind(ctx, handlers::self_metrics));
  router.add("GET", "/api/v1/ca.crt", bind(ctx, handlers::ca_certificate));
  router.add("POST", "/api/v1/collectors/register", bind(ctx, handlers::register_collector));
  router.add("POST", "/api/v1/collectors/{collector_id}/certificate", bind(ctx, handlers::renew_certificate));
  router.add("GET", "/api/v1/config/{collector_id}", bind(ctx, handlers::collector_config));
  router.add("GET", "/api/v1/collectors", bind(ctx, handlers::list_collectors));
  router.add("GET", "/api/v1/collectors/{id}", bind(ctx, handlers::get_collector));
  router.add("PUT", "/api/v1/collectors/{id}/config", bind(ctx, handlers::update_collector_config));
  router.add("GET", "/api/v1/servers", bind(ctx, handlers::list_servers));
  router.add("GET", "/api/v1/servers/{id}", bind(ctx, handlers::get_server));
  router.add("GET", "/api/v1/servers/{id}/metrics", bind(ctx, handlers::server_metrics));
  router.add("POST", "/api/v1/auth/login", bind(ctx, handlers::login));
  router.add("POST", "/api/v1/auth/logout", bind(ctx, handlers::logout));
  router.add("POST", "/api/v1/auth/refresh", bind(ctx, handlers::refresh));
  router.add("POST", "/api/v1/metrics/push", bind(ctx, handlers::push_metrics));
  return router;
}

}  // namespace pga::server
