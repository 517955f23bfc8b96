// Every route the server answers, in one table with the access each declares. authorize() runs
// before every handler; database unavailability becomes 503 with Retry-After here, for every
// route alike; other failures are mapped by net::to_response.
#include "pganalytics/server/routes.hpp"

#include "pganalytics/server/handlers.hpp"

namespace pga::server {
namespace {

using enum Audience;
namespace h = handlers;

constexpr Access kPublic{Public};
constexpr Access kEnrolment{Enrolment};
constexpr Access kAgent{Agent};
constexpr Access kViewer{Viewer};
constexpr Access kViewerOfServer{Viewer, ServerScope::Server};
constexpr Access kViewerOfCollector{Viewer, ServerScope::Collector};
constexpr Access kAdminOfCollector{Admin, ServerScope::Collector};

constexpr RouteSpec kRoutes[] = {
    {"GET", "/api/v1/health", kPublic, h::health},
    {"GET", "/metrics", kPublic, h::self_metrics},
    {"GET", "/api/v1/ca.crt", kPublic, h::ca_certificate},
    {"POST", "/api/v1/collectors/register", kEnrolment, h::register_collector},
    {"POST", "/api/v1/collectors/{collector_id}/certificate", kAgent, h::renew_certificate},
    {"GET", "/api/v1/config/{collector_id}", kAgent, h::collector_config},
    {"POST", "/api/v1/metrics/push", kAgent, h::push_metrics, kBatchBody},
    {"GET", "/api/v1/collectors", kViewer, h::list_collectors},
    {"GET", "/api/v1/collectors/{id}", kViewerOfCollector, h::get_collector},
    {"PUT", "/api/v1/collectors/{id}/config", kAdminOfCollector, h::update_collector_config},
    {"GET", "/api/v1/servers", kViewer, h::list_servers},
    {"GET", "/api/v1/servers/{id}", kViewerOfServer, h::get_server},
    {"GET", "/api/v1/servers/{id}/metrics", kViewerOfServer, h::server_metrics},
    {"POST", "/api/v1/auth/login", kPublic, h::login},
    {"POST", "/api/v1/auth/logout", kViewer, h::logout},
    {"POST", "/api/v1/auth/refresh", kPublic, h::refresh},
};

// Authentication and access are decided on the headers; only then is the body read (and, for the
// push route, inflated), so an anonymous client cannot make the server read or inflate anything.
net::StagedHandler bind(ServerContext& ctx, const RouteSpec& spec) {
  return [&ctx, &spec](net::Request& request, net::BodyReader& body) -> boost::asio::awaitable<net::Response> {
    try {
      const Caller caller = co_await authorize(ctx, request, spec.access);
      co_await body.read(request);
      co_return co_await spec.handler(ctx, request, caller);
    } catch (const db::DbUnavailable&) {
      throw net::ApiError(503, "database_unavailable", "the storage database is unavailable; retry later")
          .with_header("Retry-After", "5");
    }
  };
}

}  // namespace

std::span<const RouteSpec> route_table() { return kRoutes; }

net::Router make_routes(ServerContext& ctx) {
  net::Router router;
  for (const auto& spec : kRoutes) router.add(std::string(spec.method), spec.pattern, bind(ctx, spec), spec.body);
  return router;
}

}  // namespace pga::server
