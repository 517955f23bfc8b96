// Storing a validated batch: partitions first (DDL, outside the transaction so its locks are
// brief), then one transaction holding the batch record, the inventory, the query texts, every
// COPY and the seq bookkeeping. Nothing is visible until COMMIT; any failure rolls all of it back.
#include <mutex>
#include <set>

#include "pganalytics/net/http.hpp"
#include "pganalytics/server/ingest.hpp"
#include "pganalytics/server/ingest_repository.hpp"

namespace pga::server::ingest {
namespace {

using boost::asio::awaitable;

bool lost_creation_race(const db::DbError& error) {
  // duplicate_table, or unique_violation on the catalog: another writer created it first.
  return error.sqlstate() == "42P07" || error.sqlstate() == "23505";
}

// "no partition of relation ... found for row": a COPY met a day without its partition.
bool missing_partition(const db::DbError& error) { return error.sqlstate() == "23514"; }

// The days whose partitions this process has created, so that a push pays create_partitions
// (PL/pgSQL scanning the catalog for every metric table) once per day rather than per batch.
// Maintenance keeps partitions days ahead and drops only days the parser already refuses as
// expired; a partition dropped any other way is caught by store_batch, which forgets the day.
class EnsuredDays {
 public:
  bool contains(const std::string& day) const {
    std::lock_guard lock(mutex_);
    return days_.contains(day);
  }
  void add(const std::string& day) {
    std::lock_guard lock(mutex_);
    days_.insert(day);
    // "YYYY-MM-DD" sorts by date: past the bound, the oldest day goes, and with it one call saved.
    if (days_.size() > kMaxDays) days_.erase(days_.begin());
  }
  void forget(const std::set<std::string>& days) {
    std::lock_guard lock(mutex_);
    for (const auto& day : days) days_.erase(day);
  }

 private:
  static constexpr std::size_t kMaxDays = 1000;
  mutable std::mutex mutex_;
  std::set<std::string> days_;
};

EnsuredDays& ensured_days() {
  static EnsuredDays days;
  return days;
}

std::set<std::string> days_of(const Batch& batch) {
  std::set<std::string> days;
  for (const auto& sample : batch.samples) days.insert(format_day(sample.at_us));
  return days;
}

awaitable<void> create_partitions(db::AsyncConnection& conn, const std::string& day) {
  for (int attempt = 1;; ++attempt) {
    try {
      co_await repo::create_partitions(conn, day);
      co_return;
    } catch (const db::DbError& error) {
      if (attempt > 1 || !lost_creation_race(error)) throw;
    }
  }
}

// Returns whether a day was taken on trust from the cache, i.e. whether a missing partition
// may be the cache's fault.
awaitable<bool> ensure_partitions(db::AsyncConnection& conn, const std::set<std::string>& days) {
  bool trusted = false;
  for (const auto& day : days) {
    if (ensured_days().contains(day)) {
      trusted = true;
      continue;
    }
    co_await create_partitions(conn, day);
    ensured_days().add(day);
  }
  co_return trusted;
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

// A text may name an instance of this batch (registered by owners_of just before) or one an
// earlier batch registered; a name the server never saw refuses the batch, rolled back whole.
awaitable<void> store_query_texts(db::AsyncConnection& conn, const Batch& batch, std::int64_t server_id) {
  if (batch.query_texts.empty()) co_return;
  std::set<std::string> names;
  for (const auto& text : batch.query_texts) names.insert(text.instance);
  const std::vector<std::string> sorted(names.begin(), names.end());
  const auto unknown = co_await repo::unknown_instances(conn, server_id, sorted);
  if (!unknown.empty())
    throw net::ApiError(400, "unknown_instance",
                        "query_texts names instance \"" + unknown.front() +
                            "\", which neither this batch nor an earlier one of this collector has samples of");
  co_await repo::insert_query_texts(conn, server_id, batch.query_texts);
}

awaitable<StoreOutcome> store_in_transaction(db::AsyncConnection& conn, const Batch& batch) {
  const auto sent_at = format_timestamp(batch.sent_at_us);
  const auto rows = static_cast<std::int64_t>(batch.row_count());
  const auto collector = co_await repo::lock_and_claim(conn, batch.collector_id, batch.seq, sent_at, rows);
  const StoreOutcome outcome{!collector.claimed, collector.config_version};
  if (!collector.claimed) co_return outcome;
  const auto owners = co_await owners_of(conn, batch, collector.server_id);
  co_await record_databases(conn, batch, owners);
  co_await store_query_texts(conn, batch, collector.server_id);
  co_await copy_families(conn, batch, owners);
  std::int64_t explained = 0;
  if (!batch.dropped.empty()) explained = co_await repo::record_dropped_ranges(conn, batch.collector_id, batch.dropped);
  const repo::FinishedBatch finished{batch.collector_id, batch.seq, explained, batch.agent_version,
                                     batch.agent_hostname};
  co_await repo::finish_batch(conn, finished);
  co_return outcome;
}

awaitable<StoreOutcome> store_once(db::AsyncConnection& conn, const Batch& batch) {
  StoreOutcome outcome{};
  co_await db::in_transaction(conn, [&]() -> awaitable<void> { outcome = co_await store_in_transaction(conn, batch); });
  co_return outcome;
}

}  // namespace

awaitable<StoreOutcome> store_batch(db::AsyncConnection& conn, const Batch& batch) {
  const auto days = days_of(batch);
  const bool trusted_cache = co_await ensure_partitions(conn, days);
  try {
    co_return co_await store_once(conn, batch);
  } catch (const db::DbError& error) {
    if (!trusted_cache || !missing_partition(error)) throw;
  }
  // A cached day lost its partitions behind this process's back; the attempt was rolled back
  // whole, so it is made again once with every day ensured for real.
  ensured_days().forget(days);
  co_await ensure_partitions(conn, days);
  co_return co_await store_once(conn, batch);
}

}  // namespace pga::server::ingest
