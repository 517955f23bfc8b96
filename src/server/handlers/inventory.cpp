// The read API for signed-in users: collectors, monitored servers with their instances (both
// listed by pages, request_params.hpp), and metric time series (CONTRACT §4).
#include <ctime>

#include "pganalytics/metrics/registry.hpp"
#include "pganalytics/security/ca.hpp"
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/query_repository.hpp"
#include "pganalytics/server/request_params.hpp"

namespace pga::server::handlers {
namespace {

net::Response raw_json(std::string body) {
  net::Response response;
  response.body = std::move(body);
  return response;
}

// The one element of a filtered JSON list, or 404 naming `what`.
net::Response single_item(const std::string& list, const std::string& what) {
  if (list == "[]") throw net::ApiError(404, "not_found", "no such " + what);
  return raw_json(list.substr(1, list.size() - 2));
}

// A page of a listing whose key came back from a client: checked before it reaches SQL.
repo::ListPage list_page(const PageRequest& page, bool (*key_is_sound)(const std::vector<std::string>&)) {
  if (!page.after.empty() && !key_is_sound(page.after))
    throw net::ApiError(400, "bad_parameter", "cursor is not a cursor this listing gave");
  return {page.limit, page.after};
}

bool server_key(const std::vector<std::string>& key) { return positive_id(key[0]).has_value(); }

bool collector_key(const std::vector<std::string>& key) { return security::is_lowercase_uuid(key[1]); }

repo::SeriesQuery series_query(const net::Request& request, std::int64_t server_id) {
  auto family_name = request.query_param("family");
  auto column_name = request.query_param("column");
  if (!family_name || !column_name) throw net::ApiError(400, "missing_parameter", "family and column are required");
  const auto* family = metrics::find_family(*family_name);
  if (!family) throw net::ApiError(400, "unknown_family", "unknown family " + std::string(*family_name));
  const auto* column = family->find_column(*column_name);
  if (!column || (column->kind != metrics::ColumnKind::Counter && column->kind != metrics::ColumnKind::Gauge) ||
      column->type == metrics::ColumnType::Text || column->type == metrics::ColumnType::Timestamp ||
      column->type == metrics::ColumnType::Bool)
    throw net::ApiError(400, "unknown_column",
                        std::string(*column_name) + " is not a numeric counter or gauge of " + std::string(family->name));
  const double now = static_cast<double>(std::time(nullptr));
  const double to = time_param(request, "to").value_or(now);
  const double from = time_param(request, "from").value_or(to - 3600);
  std::int64_t step = 60;
  if (auto text = request.query_param("step")) {
    auto parsed = parse_duration(*text);
    constexpr std::int64_t kMaxStepMs = 366LL * 86'400'000;
    if (!parsed || parsed->count() < 1000 || parsed->count() > kMaxStepMs)
      throw net::ApiError(400, "bad_parameter", "step must be a duration from 1s to 366d");
    step = parsed->count() / 1000;
  }
  if (to <= from) throw net::ApiError(400, "bad_parameter", "from must be before to");
  if ((to - from) / static_cast<double>(step) > 11'000)
    throw net::ApiError(400, "too_many_points", "at most 11,000 points per series: widen the step");
  const bool rate = request.query_param("rate") == std::optional<std::string_view>("true");
  return {family, column, server_id, from, to, step, rate};
}

}  // namespace

awaitable<net::Response> list_collectors(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto page = page_param(request, 2);
  const auto wanted = list_page(page, collector_key);
  auto lease = co_await ctx.pool->acquire();
  auto listed = co_await repo::list_collectors(*lease, std::nullopt, caller.servers, wanted);
  co_return page_response(request, page, std::move(listed.items), listed.next);
}

awaitable<net::Response> get_collector(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const std::optional<std::string> wanted = request.path_param("id");
  auto lease = co_await ctx.pool->acquire();
  const auto listed = co_await repo::list_collectors(*lease, wanted, caller.servers, {});
  co_return single_item(listed.items, "collector");
}

awaitable<net::Response> list_servers(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto page = page_param(request, 1);
  const auto wanted = list_page(page, server_key);
  auto lease = co_await ctx.pool->acquire();
  auto listed = co_await repo::list_servers(*lease, std::nullopt, caller.servers, wanted);
  co_return page_response(request, page, std::move(listed.items), listed.next);
}

awaitable<net::Response> get_server(ServerContext& ctx, net::Request&, const Caller& caller) {
  auto lease = co_await ctx.pool->acquire();
  const auto listed = co_await repo::list_servers(*lease, caller.scoped_server_id, caller.servers, {});
  co_return single_item(listed.items, "server");
}

awaitable<net::Response> server_metrics(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto query = series_query(request, *caller.scoped_server_id);
  auto lease = co_await ctx.pool->acquire();
  co_return raw_json(co_await repo::metric_series(*lease, query));
}

}  // namespace pga::server::handlers
