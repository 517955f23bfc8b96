// Storage upkeep the server runs itself (whatever the storage, TimescaleDB or not): daily
// partitions created ahead, partitions dropped at the retention bounds, hourly rollups refreshed.
#pragma once
#include <boost/asio/awaitable.hpp>

#include "pganalytics/server/context.hpp"

namespace pga::server {

// One pass; returns after committing. Safe with several replicas: an advisory lock makes the
// others skip the pass instead of doing it twice.
boost::asio::awaitable<void> maintain_storage_once(ServerContext& ctx);
// Every 5 minutes until the io_context stops; failures are logged and retried next time.
boost::asio::awaitable<void> maintenance_loop(ServerContext& ctx);

}  // namespace pga::server
