// The SQL of ingestion, behind these functions (src/server/repository/ingest_repository.cpp):
// partitions, the exactly-once batch record, the inventory, COPY and the seq bookkeeping.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "pganalytics/db/async_pg.hpp"
#include "pganalytics/metrics/registry.hpp"
#include "pganalytics/server/ingest.hpp"

namespace pga::server::repo {

using boost::asio::awaitable;
using db::AsyncConnection;

// Creates the missing daily partitions of every metric table for `day` ("2026-11-24", UTC).
awaitable<void> create_partitions(AsyncConnection& conn, const std::string& day);

struct BatchClaim {
  std::string collector_id;
  std::int64_t seq;
  std::string sent_at;
  std::int64_t row_count;
};
struct IngestingCollector {
  std::int64_t server_id;
  std::int64_t config_version;
  bool claimed;  // false: (collector_id, seq) was ingested before, the batch is a duplicate
};
// Locks the collectors of `claims` until commit, so one collector's batches are stored one after
// the other and its seq bookkeeping stays exact, then records each (collector_id, seq), distinct
// within `claims`, as ingested with its row count. One result per claim, in order. Throws
// DbError when a collector no longer exists.
awaitable<std::vector<IngestingCollector>> lock_and_claim(AsyncConnection& conn, const std::vector<BatchClaim>& claims);

struct InstanceName {
  std::int64_t server_id;
  std::string name;
  auto operator<=>(const InstanceName&) const = default;
};
// Upserts the named instances (marking them seen) and returns their ids; `names` must be sorted
// and distinct.
awaitable<std::map<InstanceName, std::int64_t>> resolve_instances(AsyncConnection& conn,
                                                                  const std::vector<InstanceName>& names);

// The names among `names` that are not instances yet.
awaitable<std::vector<InstanceName>> unknown_instances(AsyncConnection& conn, const std::vector<InstanceName>& names);

struct ServerQueryText {
  std::int64_t server_id;
  const ingest::QueryText* text;
};
// Stores the texts of instances that are not stored yet; a text of an (instance, queryid) stored
// before wins. `texts` must hold one text per (instance, queryid).
awaitable<void> insert_query_texts(AsyncConnection& conn, const std::vector<ServerQueryText>& texts);

struct DatabaseName {
  std::int64_t instance_id;
  std::string datname;
  auto operator<=>(const DatabaseName&) const = default;
};
// Upserts the databases (marking them seen); `databases` must be sorted and distinct.
awaitable<void> upsert_databases(AsyncConnection& conn, const std::vector<DatabaseName>& databases);

struct InventoryCount {
  std::int64_t server_id;
  std::int64_t instances;
  std::int64_t databases;  // over all the server's instances
};
// What the inventory of each server holds now, in the order of `server_ids`.
awaitable<std::vector<InventoryCount>> inventory_counts(AsyncConnection& conn, const std::vector<std::int64_t>& server_ids);

// COPY of `data` (binary format: time, owner id, then `columns` of the family) into its table.
awaitable<void> copy_rows(AsyncConnection& conn, const metrics::Family& family, std::span<const std::size_t> columns,
                          std::string_view data);

// Records the dropped ranges not recorded before; returns how many of their seqs that explains
// (those never ingested), to take off the collector's missing count.
awaitable<std::int64_t> record_dropped_ranges(AsyncConnection& conn, const std::string& collector_id,
                                              const std::vector<ingest::SeqRange>& ranges);

struct FinishedBatch {
  std::string collector_id;
  std::int64_t seq;
  std::int64_t explained_seqs;  // from record_dropped_ranges
  std::string agent_version;
  std::string hostname;
};
// Marks the collector (and its server) seen and advances last_seq and missing_seq_count.
awaitable<void> finish_batch(AsyncConnection& conn, const FinishedBatch& batch);

}  // namespace pga::server::repo
