// GET /api/v1/config/{collector_id}: what the agent should collect and how often (the ETag is the
// config version, so polls mostly get 304), and PUT .../collectors/{id}/config for users of
// the collector's server.
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include "pganalytics/metrics/collection_settings.hpp"
#include "pganalytics/metrics/registry.hpp"

#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/json_body.hpp"

namespace pga::server::handlers {
namespace {

net::Response config_response(const std::string& collector_id, const repo::CollectorConfig& config,
                              const std::string& etag) {
  auto response = json_response(200, {{"collector_id", collector_id},
                                      {"config_version", config.version},
                                      {"collectors", boost::json::parse(config.config_json)}});
  response.headers.emplace_back("ETag", etag);
  return response;
}

// The body's "collectors" settings, every family known to the registry; 400 otherwise.
metrics::FamilySettings settings_from(const net::Request& request) {
  auto body = parse_json_object(request.body);
  const auto* collectors = body.if_contains("collectors");
  if (!collectors) throw net::ApiError(400, "missing_field", "collectors is required");
  metrics::FamilySettings settings;
  try {
    settings = metrics::parse_family_settings(*collectors);
  } catch (const std::runtime_error& e) {
    throw net::ApiError(400, "invalid_config", e.what());
  }
  for (const auto& [family, setting] : settings)
    if (!metrics::find_family(family)) throw net::ApiError(400, "unknown_family", "unknown family " + family);
  return settings;
}

}  // namespace

awaitable<net::Response> update_collector_config(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto collector_id = request.path_param("id");
  const auto config_json = boost::json::serialize(metrics::to_json(settings_from(request)));
  auto lease = co_await ctx.pool->acquire();
  const auto version = co_await repo::update_collector_config(*lease, collector_id, config_json);
  if (!version) throw net::ApiError(404, "not_found", "no such collector");
  const repo::AuditEntry entry{caller.actor(), "collector.config", collector_id, true, request.remote_address,
                               config_json};
  co_await repo::audit(*lease, entry);
  co_return json_response(200, {{"collector_id", collector_id}, {"config_version", *version}});
}

awaitable<net::Response> collector_config(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto& collector_id = caller.collector_id;
  auto lease = co_await ctx.pool->acquire();
  auto config = co_await repo::collector_config(*lease, collector_id);
  if (!config) throw net::ApiError(404, "not_found", "no such collector");
  const auto etag = "\"" + std::to_string(config->version) + "\"";
  if (request.header("If-None-Match") == std::optional<std::string_view>(etag)) {
    net::Response not_modified;
    not_modified.status = 304;
    not_modified.headers.emplace_back("ETag", etag);
    co_return not_modified;
  }
  co_return config_response(collector_id, *config, etag);
}

}  // namespace pga::server::handlers
