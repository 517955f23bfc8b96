// The throttled audit writes and the loop that writes the summaries of finished windows.
#include "pganalytics/server/audit_events.hpp"

#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "pganalytics/common/log.hpp"

namespace pga::server {

boost::asio::awaitable<void> audit_throttled(ServerContext& ctx, repo::AuditEntry entry) {
  if (!ctx.audit_throttle.admit(entry)) co_return;
  try {
    auto lease = co_await ctx.pool->acquire();
    co_await repo::audit(*lease, entry);
  } catch (const std::exception& e) {
    log::warn("could not write an audit row ({}): {}", entry.action, e.what());
  }
}

boost::asio::awaitable<void> audit_change(ServerContext& ctx, const Caller& caller, const net::Request& request,
                                          std::string action, std::string target, std::string detail_json) {
  auto lease = co_await ctx.pool->acquire();
  const repo::AuditEntry entry{caller.actor(), std::move(action), std::move(target), true, request.remote_address,
                               std::move(detail_json)};
  co_await repo::audit(*lease, entry);
}

boost::asio::awaitable<void> flush_audit_summaries(ServerContext& ctx, bool all) {
  const auto summaries = ctx.audit_throttle.take_summaries(all);
  if (summaries.empty()) co_return;
  auto lease = co_await ctx.pool->acquire();
  for (const auto& summary : summaries) co_await repo::audit(*lease, summary);
}

boost::asio::awaitable<void> audit_summary_loop(ServerContext& ctx) {
  for (;;) {
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor, std::chrono::seconds(10));
    co_await timer.async_wait(boost::asio::use_awaitable);
    try {
      co_await flush_audit_summaries(ctx, false);
    } catch (const std::exception& e) {
      log::warn("could not write audit summaries (retrying in 10 s): {}", e.what());
    }
  }
}

}  // namespace pga::server
