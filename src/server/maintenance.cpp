// The maintenance loop. Rollups are recomputed for the last three hours on every pass, which
// also absorbs batches that an agent delivers late after an outage. The audit log's retention,
// spent sign-in budgets and long-ended sessions are cleared on the same pass.
#include "pganalytics/server/maintenance.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pganalytics/common/log.hpp"
#include "pganalytics/server/audit_repository.hpp"
#include "pganalytics/server/repository.hpp"
#include "pganalytics/server/session_repository.hpp"

namespace pga::server {

boost::asio::awaitable<void> maintain_storage_once(ServerContext& ctx) {
  auto lease = co_await ctx.pool->acquire();
  auto& conn = *lease;
  const bool locked = co_await repo::try_lock_maintenance(conn);
  if (!locked) co_return;
  std::exception_ptr failure;
  try {
    const auto created = co_await repo::ensure_partitions(conn, 3);
    const auto dropped = co_await repo::drop_expired_partitions(conn, ctx.config.retention_raw,
                                                                ctx.config.retention_disk_usage,
                                                                ctx.config.retention_rollup_1h);
    const auto rolled = co_await repo::refresh_recent_rollups(conn, 3);
    if (created || dropped) log::info("storage maintenance: {} partition(s) created, {} dropped", created, dropped);
    log::debug("storage maintenance: {} rollup row(s) refreshed", rolled);
    const auto pruned = co_await repo::prune_audit(conn, ctx.config.retention_audit);
    if (pruned) log::info("audit log retention: {} row(s) older than {} removed", pruned,
                          format_duration(ctx.config.retention_audit));
    co_await repo::prune_login_attempts(conn, ctx.config.login.window);
    co_await repo::prune_sessions(conn);
  } catch (...) {
    failure = std::current_exception();
  }
  co_await repo::unlock_maintenance(conn);
  if (failure) std::rethrow_exception(failure);
}

boost::asio::awaitable<void> maintenance_loop(ServerContext& ctx) {
  for (;;) {
    try {
      co_await maintain_storage_once(ctx);
    } catch (const std::exception& e) {
      log::warn("storage maintenance failed (retrying in 5 minutes): {}", e.what());
    }
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, std::chrono::minutes(5));
    co_await timer.async_wait(boost::asio::use_awaitable);
  }
}

}  // namespace pga::server
