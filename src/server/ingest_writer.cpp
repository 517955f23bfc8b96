// Storing a validated batch: partitions first (DDL, outside the transaction so its locks are
// brief), then one transaction holding the batch record, the inventory, every COPY and the seq
// bookkeeping. Nothing is visible until COMMIT; any failure rolls all of it back.
#include <set>

#include "pganalytics/server/ingest.hpp"
#include "pganalytics/server/ingest_repository.hpp"

namespace pga::server::ingest {
namespace {

using boost::asio::awaitable;

bool lost_creation_race(const db::DbError& error) {
  // duplicate_table, or unique_violation on the catalog: another writer created it first.
  return error.sqlstate() == "42P07" || error.sqlstate() == "23505";
}

awaitable<void> ensure_partitions(db::AsyncConnection& conn, const Batch& batch) {
  std::set<std::string> days;
  for (const auto& sample : batch.samples) days.insert(format_day(sample.at_us));
  for (const auto& day : days) {
    for (int attempt = 1;; ++attempt) {
      try {
        co_await repo::create_partitions(conn, day);
        break;
      } catch (const db::DbError& error) {
        if (attempt > 1 || !lost_creation_race(error)) throw;
      }
    }
  }
}

// The row owner of each sample: its instance's id, or the collector's server for host families.
awaitable<std::vector<std::int64_t>> owners_of(db::AsyncConnection& conn, const Batch& batch,
                                              std::int64_t server_id) {
  std::set<std::string> names;
  for (const auto& sample : batch.samples)
    if (!sample.instance.empty()) names.insert(sample.instance);
  const std::vector<std::string> sorted(names.begin(), names.end());
  std::map<std::string, std::int64_t> ids;
  if (!sorted.empty()) ids = co_await repo::resolve_instances(conn, server_id, sorted);
  std::vector<std::int64_t> owners;
  for (const auto& sample : batch.samples) owners.push_back(sample.instance.empty() ? server_id : ids.at(sample.instance));
  co_return owners;
}

awaitable<void> record_databases(db::AsyncConnection& conn, const Batch& batch,
                                 const std::vector<std::int64_t>& owners) {
  std::set<repo::DatabaseName> databases;
  for (std::size_t i = 0; i < batch.samples.size(); ++i)
    for (const auto& datname : batch.samples[i].datnames) databases.insert({owners[i], datname});
  const std::vector<repo::DatabaseName> sorted(databases.begin(), databases.end());
  if (!sorted.empty()) co_await repo::upsert_databases(conn, sorted);
}

awaitable<void> copy_families(db::AsyncConnection& conn, const Batch& batch, const std::vector<std::int64_t>& owners) {
  for (std::size_t slot = 0; slot < batch.families.size(); ++slot) {
    const auto data = copy_data(batch, slot, owners);
    if (data.empty()) continue;
    const auto& family = batch.families[slot];
    co_await repo::copy_rows(conn, *family.family, family.columns, data);
  }
}

awaitable<StoreOutcome> store_in_transaction(db::AsyncConnection& conn, const Batch& batch) {
  const auto sent_at = format_timestamp(batch.sent_at_us);
  const auto rows = static_cast<std::int64_t>(batch.row_count());
  const bool is_new = co_await repo::claim_batch(conn, batch.collector_id, batch.seq, sent_at, rows);
  const auto collector = co_await repo::lock_collector(conn, batch.collector_id);
  const StoreOutcome outcome{!is_new, collector.config_version};
  if (!is_new) co_return outcome;
  const auto owners = co_await owners_of(conn, batch, collector.server_id);
  co_await record_databases(conn, batch, owners);
  co_await copy_families(conn, batch, owners);
  std::int64_t explained = 0;
  if (!batch.dropped.empty()) explained = co_await repo::record_dropped_ranges(conn, batch.collector_id, batch.dropped);
  const repo::FinishedBatch finished{batch.collector_id, batch.seq, explained, batch.agent_version,
                                     batch.agent_hostname};
  co_await repo::finish_batch(conn, finished);
  co_return outcome;
}

}  // namespace

awaitable<StoreOutcome> store_batch(db::AsyncConnection& conn, const Batch& batch) {
  co_await ensure_partitions(conn, batch);
  StoreOutcome outcome{};
  co_await db::in_transaction(conn, [&]() -> awaitable<void> { outcome = co_await store_in_transaction(conn, batch); });
  co_return outcome;
}

}  // namespace pga::server::ingest
