// Every route the server answers, in one table with the access each declares. authorize() runs
// before every handler; database unavailability becomes 503 with Retry-After here, for every
// route alike; other failures are mapped by net::to_response.
#include "pganalytics/server/routes.hpp"

#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>

#include <stdexcept>

#include "pganalytics/server/handlers.hpp"

namespace pga::server {
namespace {

using enum Audience;
namespace h = handlers;

constexpr Access kPublic{Public};
constexpr Access kEnrolment{Enrolment};
constexpr Access kAgent{Agent};
constexpr Access kViewer{Viewer};
constexpr Access kViewerSession{Viewer, ServerScope::None, true};
constexpr Access kAdmin{Admin};
constexpr Access kViewerOfServer{Viewer, ServerScope::Server};
constexpr Access kViewerOfCollector{Viewer, ServerScope::Collector};
constexpr Access kUserOfCollector{User, ServerScope::Collector};
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
    {"PUT", "/api/v1/collectors/{id}/config", kUserOfCollector, h::update_collector_config},
    {"PATCH", "/api/v1/collectors/{id}", kAdminOfCollector, h::rename_collector},
    {"DELETE", "/api/v1/collectors/{id}", kAdminOfCollector, h::delete_collector},
    {"POST", "/api/v1/collectors/{id}/disable", kAdminOfCollector, h::disable_collector},
    {"POST", "/api/v1/collectors/{id}/enable", kAdminOfCollector, h::enable_collector},
    {"GET", "/api/v1/servers", kViewer, h::list_servers},
    {"GET", "/api/v1/servers/{id}", kViewerOfServer, h::get_server},
    {"GET", "/api/v1/servers/{id}/metrics", kViewerOfServer, h::server_metrics},
    {"POST", "/api/v1/auth/login", kPublic, h::login},
    {"POST", "/api/v1/auth/logout", kViewer, h::logout},
    {"POST", "/api/v1/auth/refresh", kPublic, h::refresh},
    {"GET", "/api/v1/me", kViewer, h::me},
    {"POST", "/api/v1/me/password", kViewerSession, h::change_my_password},
    {"GET", "/api/v1/me/sessions", kViewer, h::my_sessions},
    {"DELETE", "/api/v1/me/sessions/{id}", kViewer, h::revoke_my_session},
    {"GET", "/api/v1/api-tokens", kViewer, h::list_api_tokens},
    {"POST", "/api/v1/api-tokens", kViewerSession, h::create_api_token},
    {"DELETE", "/api/v1/api-tokens/{id}", kViewer, h::revoke_api_token},
    {"GET", "/api/v1/users", kAdmin, h::list_users},
    {"POST", "/api/v1/users", kAdmin, h::create_user},
    {"PATCH", "/api/v1/users/{id}", kAdmin, h::update_user},
    {"DELETE", "/api/v1/users/{id}", kAdmin, h::delete_user},
    {"PUT", "/api/v1/users/{id}/servers", kAdmin, h::set_user_servers},
    {"GET", "/api/v1/teams", kAdmin, h::list_teams},
    {"POST", "/api/v1/teams", kAdmin, h::create_team},
    {"DELETE", "/api/v1/teams/{id}", kAdmin, h::delete_team},
    {"PUT", "/api/v1/teams/{id}/members", kAdmin, h::set_team_members},
    {"PUT", "/api/v1/teams/{id}/servers", kAdmin, h::set_team_servers},
    {"GET", "/api/v1/audit", kAdmin, h::list_audit},
    {"GET", "/api/v1/audit/verify", kAdmin, h::verify_audit},
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

std::string_view to_string(ServerScope scope) {
  switch (scope) {
    case ServerScope::Server: return "server";
    case ServerScope::Instance: return "instance";
    case ServerScope::Collector: return "collector";
    case ServerScope::None: break;
  }
  return "none";
}

bool is_user_audience(Audience audience) {
  return audience == Viewer || audience == User || audience == Admin;
}

std::string name_of(std::string_view method, std::string_view pattern) {
  return std::string(method) + " " + std::string(pattern);
}

}  // namespace

std::span<const RouteSpec> route_table() { return kRoutes; }

void check_route_table(std::span<const RouteSpec> table, const net::Router& router) {
  for (const auto& spec : table) {
    const auto name = name_of(spec.method, spec.pattern);
    if (!spec.handler) throw std::logic_error("route " + name + " has no handler");
    if (spec.access.scope != ServerScope::None &&
        (!is_user_audience(spec.access.audience) || spec.pattern.find("{id}") == std::string_view::npos))
      throw std::logic_error("route " + name + " is scoped to a " + std::string(to_string(spec.access.scope)) +
                             " but is not a user route whose path has {id}");
    if (spec.access.session_only && !is_user_audience(spec.access.audience))
      throw std::logic_error("route " + name + " is session_only but takes no user");
  }
  for (const auto& entry : router.entries()) {
    std::size_t declared = 0;
    for (const auto& spec : table) declared += spec.method == entry.method && spec.pattern == entry.pattern;
    if (declared != 1)
      throw std::logic_error("route " + name_of(entry.method, entry.pattern) + " is declared " +
                             std::to_string(declared) + " times in the route table (it must be exactly once)");
  }
}

net::Router make_routes(ServerContext& ctx) {
  net::Router router;
  for (const auto& spec : kRoutes) router.add(std::string(spec.method), spec.pattern, bind(ctx, spec), spec.body);
  check_route_table(kRoutes, router);
  return router;
}

std::string route_table_json() {
  boost::json::array routes;
  for (const auto& spec : kRoutes)
    routes.push_back(boost::json::object{{"method", spec.method},
                                         {"pattern", spec.pattern},
                                         {"audience", to_string(spec.access.audience)},
                                         {"scope", to_string(spec.access.scope)},
                                         {"session_only", spec.access.session_only}});
  return boost::json::serialize(routes);
}

}  // namespace pga::server
