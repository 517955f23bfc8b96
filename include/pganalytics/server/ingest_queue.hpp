// Group commit of pushed batches: parsed batches queue here, and a few writers each store what
// is queued, up to a group, in one transaction (src/server/ingest_queue.cpp).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>

#include "pganalytics/db/async_pg.hpp"
#include "pganalytics/server/ingest.hpp"

namespace pga::server::ingest {

class IngestQueue {
 public:
  // At most `writers` transactions at once, each of at most `max_group` batches.
  IngestQueue(boost::asio::any_io_executor executor, std::shared_ptr<db::PgPool> pool, std::size_t writers,
              std::size_t max_group);

  // Stores `batch` with whatever else is queued and returns once the transaction holding it has
  // committed. Throws as store_group does, for this batch alone: a group that fails for a reason
  // other than unavailability is stored again batch by batch, so only a faulty batch is refused.
  // Throws db::DbUnavailable when no commit came within `timeout` (the batch may still be stored;
  // the agent's retry then finds it a duplicate).
  boost::asio::awaitable<StoreOutcome> store(const std::shared_ptr<const Batch>& batch,
                                             std::chrono::milliseconds timeout);

  // How many batches may be queued or stored at once before pushes are refused with 503.
  std::size_t capacity() const;

  struct Impl;  // in ingest_queue.cpp; named here so that its writer coroutines can take it

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace pga::server::ingest
