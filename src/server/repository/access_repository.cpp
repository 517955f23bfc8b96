// SQL behind the access check: which servers a user was granted, and which server an instance
// or a collector belongs to (so that a route about one is scoped like a route about the server).
#include "pganalytics/server/repository.hpp"

namespace pga::server::repo {

awaitable<std::vector<std::int64_t>> granted_servers(AsyncConnection& conn, std::int64_t user_id) {
  auto r = co_await conn.exec_prepared(
      "SELECT server_id FROM pganalytics.user_visible_servers WHERE user_id = $1 ORDER BY server_id", user_id);
  std::vector<std::int64_t> ids;
  ids.reserve(static_cast<std::size_t>(r.rows()));
  for (int row = 0; row < r.rows(); ++row) ids.push_back(r.get_int(row, 0));
  co_return ids;
}

awaitable<bool> server_exists(AsyncConnection& conn, std::int64_t server_id) {
  auto r = co_await conn.exec_prepared("SELECT 1 FROM pganalytics.servers WHERE id = $1", server_id);
  co_return r.rows() == 1;
}

awaitable<std::optional<std::int64_t>> server_of_instance(AsyncConnection& conn, std::int64_t instance_id) {
  auto r = co_await conn.exec_prepared("SELECT server_id FROM pganalytics.postgresql_instances WHERE id = $1",
                                       instance_id);
  if (r.rows() == 0) co_return std::nullopt;
  co_return r.get_int(0, 0);
}

awaitable<std::optional<std::int64_t>> server_of_collector(AsyncConnection& conn, const std::string& collector_id) {
  auto r = co_await conn.exec_prepared(
      "SELECT server_id FROM pganalytics.collectors WHERE id = $1::uuid AND deleted_at IS NULL", collector_id);
  if (r.rows() == 0) co_return std::nullopt;
  co_return r.get_int(0, 0);
}

}  // namespace pga::server::repo
