// pg_stats_table and pg_stats_index: one statement per database and cycle for the statistics, and
// one for the sizes of the objects whose size may have changed (SizeCache). Columns a version
// lacks are not selected (the server stores them as NULL); a database that cannot be read is
// logged once and skipped, the others are still read.
#include "pganalytics/agent/collectors/pg_objects.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "pganalytics/agent/collectors/object_sizes.hpp"
#include "pganalytics/common/log.hpp"

namespace pga::agent::collectors {
namespace {

constexpr std::string_view kLockNotAvailable = "55P03";

using StatementFor = std::string (*)(int server_version_num);


class PerDatabaseCollector : public Collector {
 public:
  PerDatabaseCollector(std::string family, std::shared_ptr<DatabaseSessions> databases, StatementFor statement_for,
                       Sizing sizing, std::int64_t max_objects_per_database)
      : family_(std::move(family)),
        databases_(std::move(databases)),
        statement_for_(statement_for),
        sizing_(std::move(sizing)),
        cap_(max_objects_per_database) {}
  const std::string& family() const override { return family_; }
  const std::string& instance() const override { return databases_->instance(); }

  boost::asio::awaitable<std::vector<metrics::Sample>> collect() override {
    const int version = co_await databases_->server_version_num();
    const auto sql = statement_for_(version);
    const auto names = co_await databases_->databases();
    const auto gone = [&](const std::string& name) { return std::find(names.begin(), names.end(), name) == names.end(); };
    std::erase_if(failing_, gone);
    std::erase_if(sizes_, [&](const auto& entry) { return gone(entry.first); });
    std::vector<metrics::Sample> samples;
    std::size_t failed = 0;
    std::string last_error;
    for (const auto& name : names) {
      std::optional<metrics::Sample> sample;
      try {
        auto reading = read_database(name, sql);
        sample = co_await std::move(reading);
      } catch (const db::DbError& e) {
        last_error = log::redact(e.what());
        ++failed;
        if (failing_.insert(name).second)
          log::warn("{} {}: database \"{}\" is skipped until it can be read: {}", family_, instance(), name, last_error);
      }
      if (!sample) continue;
      if (failing_.erase(name) > 0) log::info("{} {}: database \"{}\" is read again", family_, instance(), name);
      if (!sample->rows.empty()) samples.push_back(std::move(*sample));
    }
    // Some databases read is a partial success; none at all is this collection failing.
    if (!names.empty() && failed == names.size())
      throw db::DbUnavailable("no database of the instance could be read (last error: " + last_error + ")");
    co_return samples;
  }

 private:
  boost::asio::awaitable<metrics::Sample> read_database(const std::string& name, const std::string& sql) {
    std::vector<db::Param> params;
    params.push_back(std::to_string(cap_));
    const auto at = std::chrono::system_clock::now();
    auto reading = databases_->query(name, sql, std::move(params));
    const auto result = co_await std::move(reading);
    auto sample = sample_from_result(family_, instance(), at, result);
    auto sizing = attach_sizes(name, result, sample);
    co_await std::move(sizing);
    co_return sample;
  }

  // Sizes the objects due (SizeCache) and appends the size columns to every row of `sample`.
  boost::asio::awaitable<void> attach_sizes(const std::string& name, const db::PgResult& result,
                                            metrics::Sample& sample) {
    const auto objects = sized_objects(result, sizing_);
    auto& cache = sizes_.try_emplace(name, kSizeMaxAge, sizing_.min_interval).first->second;
    const auto now = SizeCache::Clock::now();
    const auto due = cache.due(objects, now);
    std::optional<db::PgResult> sizes;
    if (!due.empty()) {
      std::vector<db::Param> params;
      params.push_back(id_array(due));
      try {
        auto reading = databases_->query(name, sizing_.sizes_sql, std::move(params));
        sizes.emplace(co_await std::move(reading));
      } catch (const db::DbError& error) {
        // Sizing opens each relation: one held by DDL (partition maintenance, ALTER) runs into
        // lock_timeout. The statistics still go out, with the sizes known so far; the objects
        // stay due and are sized at a later cycle.
        if (error.sqlstate() != kLockNotAvailable) throw;
      }
    }
    if (sizes) store_sizes(cache, *sizes, objects, now);
    append_sizes(sample, cache, objects, sizing_);
  }

  std::string family_;
  std::shared_ptr<DatabaseSessions> databases_;
  StatementFor statement_for_;
  Sizing sizing_;
  std::int64_t cap_;
  std::set<std::string> failing_;           // databases whose failure was logged, until they are read again
  std::map<std::string, SizeCache> sizes_;  // by database
};

// The objects of user schemas, as pg_stat_user_* filter them.
constexpr const char* kUserSchema =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'";

// Scans, tuples and block reads and hits summed over the indexes of a table, as pg_stat_*_tables
// and pg_statio_*_tables define idx_*, with the number of indexes for the size fingerprint.
std::string table_indexes(bool last_scan) {
  return "(SELECT sum(pg_stat_get_numscans(indexrelid))::bigint AS scans, "
         "sum(pg_stat_get_tuples_fetched(indexrelid))::bigint AS fetched, " +
         std::string(last_scan ? "max(pg_stat_get_lastscan(indexrelid)) AS last_scan, " : "") +
         "sum(pg_stat_get_blocks_fetched(indexrelid) - pg_stat_get_blocks_hit(indexrelid))::bigint AS read, "
         "sum(pg_stat_get_blocks_hit(indexrelid))::bigint AS hit, count(*) AS count FROM pg_index "
         "WHERE indrelid = t.relid)";
}

// The TOAST table's index (one, two while REINDEX CONCURRENTLY runs), for tidx_blks_*.
constexpr const char* kToastIndexes =
    "(SELECT sum(pg_stat_get_blocks_fetched(indexrelid) - pg_stat_get_blocks_hit(indexrelid))::bigint AS read, "
    "sum(pg_stat_get_blocks_hit(indexrelid))::bigint AS hit FROM pg_index WHERE indrelid = t.toast_relid)";

}  // namespace

// Read from pg_class with the pg_stat_get_* functions the views are made of, rather than from
// pg_stat_user_tables and pg_statio_user_tables: the views compute every figure of every table
// before the cap can apply, and cost twice as much. The cap keeps the biggest tables by the
// catalog's page counts of heap and TOAST (kept current by VACUUM and ANALYZE), plus the oldest
// by relfrozenxid; only the kept ones are read. tidx_blks_* follow the PostgreSQL 15+ definition
// in every version: before 15 the view counted each TOAST index once per index of the table.
std::string pg_stats_table_sql(int version) {
  const bool v13 = version >= 130000;
  const bool v16 = version >= 160000;
  const auto stat = [](const char* function) { return fmt::format("pg_stat_get_{}(t.relid)", function); };
  return fmt::format(
      "WITH candidates AS (SELECT c.oid AS relid, n.nspname AS schemaname, c.relname, "
      "NULLIF(c.reltoastrelid, 0::oid) AS toast_relid, c.relfilenode AS heap_file, tc.relfilenode AS toast_file, "
      "greatest(c.relpages, 0)::bigint + coalesce(greatest(tc.relpages, 0), 0) AS pages, "
      // Only tables and materialized views have a relfrozenxid; age() calls 0 infinitely old.
      "CASE WHEN c.relkind IN ('r', 'm') THEN age(c.relfrozenxid) END AS xid_age "
      "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "LEFT JOIN LATERAL (SELECT relpages, relfilenode FROM pg_class WHERE oid = c.reltoastrelid) tc ON true "
      "WHERE c.relkind IN ('r', 't', 'm', 'p') AND {user_schema}), "
      "kept AS ((SELECT relid FROM candidates ORDER BY pages DESC, relid LIMIT $1) UNION "
      "(SELECT relid FROM candidates WHERE xid_age IS NOT NULL ORDER BY xid_age DESC, relid LIMIT {wraparound})) "
      "SELECT current_database() AS datname, t.schemaname, t.relname, t.relid::bigint AS relid, "
      "{seq_scan} AS seq_scan, {last_seq_scan}{seq_tup_read} AS seq_tup_read, i.scans AS idx_scan, {last_idx_scan}"
      "i.fetched + {tuples_fetched} AS idx_tup_fetch, {ins} AS n_tup_ins, {upd} AS n_tup_upd, {del} AS n_tup_del, "
      "{hot} AS n_tup_hot_upd, {n_tup_newpage_upd}{live} AS n_live_tup, {dead} AS n_dead_tup, "
      "{mod} AS n_mod_since_analyze, {n_ins_since_vacuum}{last_vacuum} AS last_vacuum, "
      "{last_autovacuum} AS last_autovacuum, {last_analyze} AS last_analyze, {last_autoanalyze} AS last_autoanalyze, "
      "{vacuums} AS vacuum_count, {autovacuums} AS autovacuum_count, {analyzes} AS analyze_count, "
      "{autoanalyzes} AS autoanalyze_count, {fetched} - {hit} AS heap_blks_read, {hit} AS heap_blks_hit, "
      "i.read AS idx_blks_read, i.hit AS idx_blks_hit, "
      "pg_stat_get_blocks_fetched(t.toast_relid) - pg_stat_get_blocks_hit(t.toast_relid) AS toast_blks_read, "
      "pg_stat_get_blocks_hit(t.toast_relid) AS toast_blks_hit, x.read AS tidx_blks_read, x.hit AS tidx_blks_hit, "
      "t.xid_age::bigint AS relfrozenxid_age, "
      "t.heap_file AS _heap_file, t.toast_file AS _toast_file, i.count AS _indexes "
      "FROM candidates t JOIN kept USING (relid) LEFT JOIN LATERAL {table_indexes} i ON true "
      "LEFT JOIN LATERAL {toast_indexes} x ON true",
      fmt::arg("user_schema", kUserSchema), fmt::arg("wraparound", kWraparoundTablesPerDatabase),
      fmt::arg("seq_scan", stat("numscans")), fmt::arg("seq_tup_read", stat("tuples_returned")),
      fmt::arg("tuples_fetched", stat("tuples_fetched")), fmt::arg("ins", stat("tuples_inserted")),
      fmt::arg("upd", stat("tuples_updated")), fmt::arg("del", stat("tuples_deleted")),
      fmt::arg("hot", stat("tuples_hot_updated")), fmt::arg("live", stat("live_tuples")),
      fmt::arg("dead", stat("dead_tuples")), fmt::arg("mod", stat("mod_since_analyze")),
      fmt::arg("vacuums", stat("vacuum_count")), fmt::arg("autovacuums", stat("autovacuum_count")),
      fmt::arg("analyzes", stat("analyze_count")), fmt::arg("autoanalyzes", stat("autoanalyze_count")),
      fmt::arg("fetched", stat("blocks_fetched")), fmt::arg("hit", stat("blocks_hit")),
      fmt::arg("last_seq_scan", v16 ? rfc3339_sql(stat("lastscan")) + " AS last_seq_scan, " : ""),
      fmt::arg("last_idx_scan", v16 ? rfc3339_sql("i.last_scan") + " AS last_idx_scan, " : ""),
      fmt::arg("n_tup_newpage_upd", v16 ? stat("tuples_newpage_updated") + " AS n_tup_newpage_upd, " : ""),
      fmt::arg("n_ins_since_vacuum", v13 ? stat("ins_since_vacuum") + " AS n_ins_since_vacuum, " : ""),
      fmt::arg("last_vacuum", rfc3339_sql(stat("last_vacuum_time"))),
      fmt::arg("last_autovacuum", rfc3339_sql(stat("last_autovacuum_time"))),
      fmt::arg("last_analyze", rfc3339_sql(stat("last_analyze_time"))),
      fmt::arg("last_autoanalyze", rfc3339_sql(stat("last_autoanalyze_time"))),
      fmt::arg("table_indexes", table_indexes(v16)), fmt::arg("toast_indexes", kToastIndexes));
}

// pg_total_relation_size is by definition table + indexes: each file is looked at once, not twice.
// OFFSET 0 keeps the subquery whole, so the sum does not size everything again.
std::string pg_stats_table_sizes_sql() {
  return "SELECT s.relid::bigint, s.table_size AS table_size_bytes, s.indexes_size AS indexes_size_bytes, "
         "s.table_size + s.indexes_size AS total_size_bytes FROM (SELECT r.relid, pg_table_size(r.relid) AS "
         "table_size, pg_indexes_size(r.relid) AS indexes_size FROM unnest($1::oid[]) r (relid) OFFSET 0) s";
}

std::string pg_stats_index_sql(int version) {
  return fmt::format(
      "SELECT current_database() AS datname, k.schemaname, k.relname, k.indexrelname, k.relid::bigint AS relid, "
      "k.indexrelid::bigint AS indexrelid, pg_stat_get_numscans(k.indexrelid) AS idx_scan, {last_idx_scan}"
      "pg_stat_get_tuples_returned(k.indexrelid) AS idx_tup_read, "
      "pg_stat_get_tuples_fetched(k.indexrelid) AS idx_tup_fetch, "
      "pg_stat_get_blocks_fetched(k.indexrelid) - pg_stat_get_blocks_hit(k.indexrelid) AS idx_blks_read, "
      "pg_stat_get_blocks_hit(k.indexrelid) AS idx_blks_hit, k.file AS _file "
      // The indexes of pg_stat_user_indexes, ranked by the catalog's page count.
      "FROM (SELECT c.oid AS relid, i.oid AS indexrelid, n.nspname AS schemaname, c.relname, "
      "i.relname AS indexrelname, i.relfilenode AS file FROM pg_class c JOIN pg_index x ON x.indrelid = c.oid "
      "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE c.relkind IN ('r', 't', 'm') AND {user_schema} ORDER BY i.relpages DESC, i.oid LIMIT $1) k",
      fmt::arg("user_schema", kUserSchema),
      fmt::arg("last_idx_scan",
               version >= 160000 ? rfc3339_sql("pg_stat_get_lastscan(k.indexrelid)") + " AS last_idx_scan, " : ""));
}

std::string pg_stats_index_sizes_sql() {
  return "SELECT r.relid::bigint, pg_relation_size(r.relid) AS index_size_bytes FROM unnest($1::oid[]) r (relid)";
}

CollectorPtr make_pg_stats_table(std::shared_ptr<DatabaseSessions> databases, std::int64_t max_objects_per_database) {
  // Rows written, vacuums (which truncate and make the free space and visibility maps), new files
  // (TRUNCATE, CLUSTER, VACUUM FULL) and an index created or dropped. A REINDEX of one of its
  // indexes shows in indexes_size_bytes at the latest after kSizeMaxAge (in pg_stats_index at once).
  Sizing sizing{"relid",
                {"n_tup_ins", "n_tup_upd", "n_tup_del", "vacuum_count", "autovacuum_count", "_heap_file", "_toast_file",
                 "_indexes"},
                pg_stats_table_sizes_sql(),
                {"table_size_bytes", "indexes_size_bytes", "total_size_bytes"}};
  return std::make_unique<PerDatabaseCollector>("pg_stats_table", std::move(databases), pg_stats_table_sql,
                                                std::move(sizing), max_objects_per_database);
}

CollectorPtr make_pg_stats_index(std::shared_ptr<DatabaseSessions> databases, std::int64_t max_objects_per_database) {
  // Every insert into an index and every vacuum of it reads its pages; REINDEX gives it a new file.
  Sizing sizing{"indexrelid", {"idx_blks_read", "idx_blks_hit", "_file"}, pg_stats_index_sizes_sql(),
                {"index_size_bytes"}};
  return std::make_unique<PerDatabaseCollector>("pg_stats_index", std::move(databases), pg_stats_index_sql,
                                                std::move(sizing), max_objects_per_database);
}

}  // namespace pga::agent::collectors
