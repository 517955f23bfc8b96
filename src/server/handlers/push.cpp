// POST /api/v1/metrics/push: an authenticated agent's batch is parsed and validated on the CPU
// pool, queued to be stored (with others queued meanwhile) in one transaction, and answered only
// after that COMMIT (CONTRACT §5). Each collector has a bounded number of batches in flight.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <memory>

#include "pganalytics/common/log.hpp"
#include "pganalytics/server/handlers.hpp"
#include "pganalytics/server/ingest.hpp"
#include "pganalytics/server/ingest_queue.hpp"
#include "pganalytics/server/json_body.hpp"

namespace pga::server::handlers {
namespace {

// An agent clock this far ahead is wrong; refusing its batch tells the operator so.
constexpr std::chrono::hours kMaxClockAhead{24};

std::int64_t micros(std::chrono::system_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

ingest::Limits limits_now(const ServerConfig& config) {
  const auto now = micros(std::chrono::system_clock::now().time_since_epoch());
  ingest::Limits limits;
  limits.earliest_raw_us = now - micros(config.retention_raw);
  limits.earliest_disk_usage_us = now - micros(config.retention_disk_usage);
  limits.latest_us = now + micros(kMaxClockAhead);
  limits.max_objects_per_sample = config.limits.objects_per_sample;
  limits.max_instances = config.limits.instances_per_collector;
  limits.max_databases = config.limits.databases_per_collector;
  limits.max_text_bytes = config.limits.text_bytes;
  return limits;
}

// How long a push waits for a place among the batches being handled before its 503. Places free
// within milliseconds under load, while a refused agent sleeps Retry-After (2 s): refusing at
// once left the database idle a third of the time with 8 back-to-back agents. Bounded, so
// overload still turns into 503s rather than an unbounded queue.
constexpr std::chrono::milliseconds kSlotWait{250};

awaitable<void> wait_for_slot(const ingest::Counters& counters, std::size_t capacity) {
  const auto deadline = std::chrono::steady_clock::now() + kSlotWait;
  const auto executor = co_await boost::asio::this_coro::executor;
  while (counters.in_flight.load() >= capacity && std::chrono::steady_clock::now() < deadline) {
    // A short poll, as PgPool::acquire does: no waiter list to keep.
    boost::asio::steady_timer pause(executor, std::chrono::milliseconds(5));
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
}

awaitable<ingest::Batch> parse_task(std::string body, std::string collector_id, ingest::Limits limits) {
  co_return ingest::parse_batch(body, collector_id, limits);
}

// On the collector's own strand of the CPU pool: its batches parse one after another, whatever
// it sends at once, leaving the other threads to other collectors. A free coroutine rather than a
// capturing lambda: GCC 12 mishandles lambda captures in co_spawn.
awaitable<ingest::Batch> parse_on_cpu_pool(const ingest::IngestQueue::Admission& admission, std::string body,
                                           std::string collector_id, ingest::Limits limits) {
  co_return co_await boost::asio::co_spawn(admission.parse_executor(),
                                           parse_task(std::move(body), std::move(collector_id), limits),
                                           boost::asio::use_awaitable);
}

// How long a queued batch may wait for the COMMIT holding it: a pool wait, partitions and a
// group's statements, each bounded on its own, fit well within it.
constexpr std::chrono::seconds kStoreWait{60};

}  // namespace

awaitable<net::Response> push_metrics(ServerContext& ctx, net::Request& request, const Caller& caller) {
  const auto& collector_id = caller.collector_id;
  auto& counters = ingest::counters();
  const auto capacity = ctx.ingest_queue->capacity();
  const auto admission = ctx.ingest_queue->admit(collector_id);
  co_await wait_for_slot(counters, capacity);
  const ingest::Slot slot(counters, capacity);
  std::shared_ptr<const ingest::Batch> batch;
  ingest::StoreOutcome outcome{};
  try {
    auto parsed = co_await parse_on_cpu_pool(admission, std::move(request.body), collector_id, limits_now(ctx.config));
    batch = std::make_shared<const ingest::Batch>(std::move(parsed));
    // Storing refuses too (query texts of an instance this collector never sent).
    outcome = co_await ctx.ingest_queue->store(batch, kStoreWait);
  } catch (const net::ApiError& refusal) {
    // The agent will set the batch aside for good, so the reason must reach the operator.
    ++counters.batches_rejected;
    log::warn("refused a batch of collector {}: {}: {}", collector_id, refusal.code(), refusal.what());
    throw;
  }
  if (outcome.duplicate) ++counters.batches_duplicate;
  else counters.record_stored(*batch);
  co_return json_response(200, {{"status", outcome.duplicate ? "duplicate" : "stored"},
                                {"seq", batch->seq},
                                {"config_version", outcome.config_version}});
}

}  // namespace pga::server::handlers
