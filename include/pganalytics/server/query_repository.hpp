// SQL of the read side: inventory (collectors, monitored servers and their instances) and
// metric time series with buckets, per-second rates and counter-reset handling.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>
#include <vector>

#include "pganalytics/db/async_pg.hpp"
#include "pganalytics/metrics/registry.hpp"

namespace pga::server::repo {

using boost::asio::awaitable;

// `visible`: the servers the caller may see (Caller::servers); nullopt lists every server.
using VisibleServers = std::optional<std::vector<std::int64_t>>;

// Keyset pages: at most `limit` items after the item whose key is `after` (none: from the start).
struct ListPage {
  std::size_t limit = 1;
  std::vector<std::string> after;
};
// A page: `items` a JSON array text built by PostgreSQL (json_agg), ready to send; `next` the
// key of its last item when more follow.
struct ListedPage {
  std::string items;
  std::optional<std::vector<std::string>> next;
};
// Collectors by name then id (key [name, id]); servers by id (key [id]). With an id, that one.
awaitable<ListedPage> list_collectors(db::AsyncConnection& conn, std::optional<std::string> collector_id,
                                      const VisibleServers& visible, const ListPage& page);
awaitable<ListedPage> list_servers(db::AsyncConnection& conn, std::optional<std::int64_t> server_id,
                                   const VisibleServers& visible, const ListPage& page);

struct SeriesQuery {
  const metrics::Family* family;
  const metrics::Column* column;
  std::int64_t server_id;
  double from_unix;
  double to_unix;
  std::int64_t step_seconds;
  bool rate;
};
// {"series":[{"labels":{...},"points":[[t,v],...]}]}; hour-or-longer steps read the rollup table.
awaitable<std::string> metric_series(db::AsyncConnection& conn, const SeriesQuery& query);

}  // namespace pga::server::repo
