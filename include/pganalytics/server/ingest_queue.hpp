// Group commit of pushed batches, fair between collectors: parsed batches queue per collector,
// and a few writers each store what is queued, up to a group, in one transaction; a collector is
// written by one writer at a time and collectors take turns (src/server/ingest_queue.cpp).
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "pganalytics/db/async_pg.hpp"
#include "pganalytics/server/ingest.hpp"

namespace pga::server::ingest {

struct QueueOptions {
  std::size_t writers = 1;                     // transactions at once
  std::size_t max_group = 16;                  // batches in one transaction
  std::size_t max_group_bytes = 16 << 20;      // their encoded rows, unless one batch alone is more
  std::size_t batches_per_collector = 16;      // parsed, queued or stored at once; beyond: 503
  InventoryLimits inventory;
};

class IngestQueue {
 public:
  // `parse` runs the parsing of batches (the CPU pool); each collector parses one batch at a
  // time there, so one collector's batches cannot occupy every thread.
  IngestQueue(boost::asio::any_io_executor executor, boost::asio::any_io_executor parse,
              std::shared_ptr<db::PgPool> pool, QueueOptions options);

  struct Impl;  // in ingest_queue.cpp; named here so that its writer coroutines can take it

  // A batch of one collector in flight, from its parsing to its answer; destroying it gives the
  // collector's place back.
  class Admission {
   public:
    Admission(std::shared_ptr<Impl> impl, std::string collector_id, boost::asio::any_io_executor strand);
    Admission(const Admission&) = delete;
    Admission& operator=(const Admission&) = delete;
    ~Admission();
    // The collector's own strand on the parse executor.
    const boost::asio::any_io_executor& parse_executor() const { return strand_; }

   private:
    std::shared_ptr<Impl> impl_;
    std::string collector_id_;
    boost::asio::any_io_executor strand_;
  };
  // Throws ApiError 503 "overloaded" (Retry-After) when the collector already has
  // batches_per_collector batches in flight.
  Admission admit(const std::string& collector_id);

  // Stores `batch` with whatever else is queued and returns once the transaction holding it has
  // committed. Throws as store_group does, for this batch alone: a group that fails for a reason
  // other than unavailability is stored again batch by batch, so only a faulty batch is refused.
  // Throws db::DbUnavailable when no commit came within `timeout` (the batch may still be stored;
  // the agent's retry then finds it a duplicate).
  boost::asio::awaitable<StoreOutcome> store(const std::shared_ptr<const Batch>& batch,
                                             std::chrono::milliseconds timeout);

  // How many batches may be queued or stored at once before pushes are refused with 503.
  std::size_t capacity() const;

 private:
  std::shared_ptr<Impl> impl_;
};

}  // namespace pga::server::ingest
