// GET /api/v1/config/{collector_id}: what the agent should collect and how often. The ETag is
// the config version, so an agent polling every few minutes mostly gets 304 and no body.
#include <boost/json/parse.hpp>

#include "pganalytics/server/authenticate.hpp"
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

}  // namespace

awaitable<net::Response> collector_config(ServerContext& ctx, net::Request& request) {
  const auto collector_id = co_await authenticate_agent(ctx, request);
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
