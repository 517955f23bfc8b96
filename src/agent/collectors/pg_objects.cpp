// pg_stats_table and pg_stats_index, one statement per database and cycle. Columns a version
// lacks are simply not selected (the server stores them as NULL); a database that cannot be read
// (dropped meanwhile, refused) is logged once and skipped, the others are still read.
#include "pganalytics/agent/collectors/pg_objects.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

#include "pganalytics/common/log.hpp"

namespace pga::agent::collectors {
namespace {

using StatementFor = std::string (*)(int server_version_num);

class PerDatabaseCollector : public Collector {
 public:
  PerDatabaseCollector(std::string family, std::shared_ptr<DatabaseSessions> databases, StatementFor statement_for,
                       std::int64_t max_objects_per_database)
      : family_(std::move(family)),
        databases_(std::move(databases)),
        statement_for_(statement_for),
        cap_(max_objects_per_database) {}
  const std::string& family() const override { return family_; }
  const std::string& instance() const override { return databases_->instance(); }

  boost::asio::awaitable<std::vector<metrics::Sample>> collect() override {
    const int version = co_await databases_->server_version_num();
    const auto sql = statement_for_(version);
    const auto names = co_await databases_->databases();
    std::erase_if(failing_,
                  [&](const std::string& name) { return std::find(names.begin(), names.end(), name) == names.end(); });
    std::vector<metrics::Sample> samples;
    std::size_t failed = 0;
    std::string last_error;
    for (const auto& name : names) {
      std::vector<db::Param> params;
      params.push_back(std::to_string(cap_));
      const auto at = std::chrono::system_clock::now();
      std::optional<db::PgResult> result;
      try {
        auto reading = databases_->query(name, sql, std::move(params));
        auto rows = co_await std::move(reading);
        result.emplace(std::move(rows));
      } catch (const db::DbError& e) {
        last_error = log::redact(e.what());
        ++failed;
        if (failing_.insert(name).second)
          log::warn("{} {}: database \"{}\" is skipped until it can be read: {}", family_, instance(), name, last_error);
      }
      if (!result) continue;
      if (failing_.erase(name) > 0) log::info("{} {}: database \"{}\" is read again", family_, instance(), name);
      if (result->rows() > 0) samples.push_back(sample_from_result(family_, instance(), at, *result));
    }
    // Some databases read is a partial success; none at all is this collection failing.
    if (!names.empty() && failed == names.size())
      throw db::DbUnavailable("no database of the instance could be read (last error: " + last_error + ")");
    co_return samples;
  }

 private:
  std::string family_;
  std::shared_ptr<DatabaseSessions> databases_;
  StatementFor statement_for_;
  std::int64_t cap_;
  std::set<std::string> failing_;  // databases whose failure was logged, until they are read again
};

// Block reads and hits summed over the indexes of `relation`, as pg_statio_*_tables defines
// idx_blks_* and tidx_blks_*.
std::string index_blocks_of(const std::string& relation) {
  return "(SELECT sum(pg_stat_get_blocks_fetched(indexrelid) - pg_stat_get_blocks_hit(indexrelid))::bigint AS read, "
         "sum(pg_stat_get_blocks_hit(indexrelid))::bigint AS hit FROM pg_index WHERE indrelid = " +
         relation + ")";
}

}  // namespace

// The cap keeps the biggest tables by the catalog's page counts of heap and TOAST (kept current
// by VACUUM and ANALYZE), which cost no lock and no file lookup; only the tables kept are sized exactly, so
// the AccessShareLocks and stat() calls of a read follow the cap, not the size of the schema. The pg_statio_user_tables columns are computed here as the view's PostgreSQL 15+
// definition does, in every version: before 15 the view summed over each pair of table index and
// TOAST index, so tidx_blks_* came out multiplied by the number of the table's indexes.
std::string pg_stats_table_sql(int version) {
  const bool v13 = version >= 130000;
  const bool v16 = version >= 160000;
  return fmt::format(
      "WITH tables AS MATERIALIZED ("
      "SELECT s.*, NULLIF(c.reltoastrelid, 0::oid) AS toast_relid, "
      // Heap and TOAST pages: adding the indexes' pages per table doubled the read's cost.
      "greatest(c.relpages, 0)::bigint + coalesce(greatest(tc.relpages, 0), 0) AS pages, "
      // Only tables and materialized views have a relfrozenxid; age() calls 0 infinitely old.
      "CASE WHEN c.relkind IN ('r', 'm') THEN age(c.relfrozenxid) END AS xid_age "
      "FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid), "
      "kept AS ((SELECT relid FROM tables ORDER BY pages DESC, relid LIMIT $1) UNION "
      "(SELECT relid FROM tables WHERE xid_age IS NOT NULL ORDER BY xid_age DESC, relid LIMIT {wraparound})), "
      // pg_total_relation_size is by definition this sum: each file is looked at once, not twice.
      "sized AS MATERIALIZED (SELECT t.*, pg_table_size(t.relid) AS table_size, pg_indexes_size(t.relid) AS "
      "indexes_size FROM tables t JOIN kept USING (relid)) "
      "SELECT current_database() AS datname, t.schemaname, t.relname, t.relid::bigint AS relid, t.seq_scan, "
      "{last_seq_scan}t.seq_tup_read, t.idx_scan, {last_idx_scan}t.idx_tup_fetch, t.n_tup_ins, t.n_tup_upd, "
      "t.n_tup_del, t.n_tup_hot_upd, {n_tup_newpage_upd}t.n_live_tup, t.n_dead_tup, t.n_mod_since_analyze, "
      "{n_ins_since_vacuum}{last_vacuum} AS last_vacuum, {last_autovacuum} AS last_autovacuum, "
      "{last_analyze} AS last_analyze, {last_autoanalyze} AS last_autoanalyze, t.vacuum_count, "
      "t.autovacuum_count, t.analyze_count, t.autoanalyze_count, "
      "pg_stat_get_blocks_fetched(t.relid) - pg_stat_get_blocks_hit(t.relid) AS heap_blks_read, "
      "pg_stat_get_blocks_hit(t.relid) AS heap_blks_hit, i.read AS idx_blks_read, i.hit AS idx_blks_hit, "
      "pg_stat_get_blocks_fetched(t.toast_relid) - pg_stat_get_blocks_hit(t.toast_relid) AS toast_blks_read, "
      "pg_stat_get_blocks_hit(t.toast_relid) AS toast_blks_hit, x.read AS tidx_blks_read, x.hit AS tidx_blks_hit, "
      "t.table_size AS table_size_bytes, t.indexes_size AS indexes_size_bytes, "
      "t.table_size + t.indexes_size AS total_size_bytes, t.xid_age::bigint AS relfrozenxid_age "
      "FROM sized t LEFT JOIN LATERAL {table_indexes} i ON true "
      "LEFT JOIN LATERAL {toast_indexes} x ON true ORDER BY t.table_size + t.indexes_size DESC, t.relid",
      fmt::arg("wraparound", kWraparoundTablesPerDatabase),
      fmt::arg("last_seq_scan", v16 ? rfc3339_sql("t.last_seq_scan") + " AS last_seq_scan, " : ""),
      fmt::arg("last_idx_scan", v16 ? rfc3339_sql("t.last_idx_scan") + " AS last_idx_scan, " : ""),
      fmt::arg("n_tup_newpage_upd", v16 ? "t.n_tup_newpage_upd, " : ""),
      fmt::arg("n_ins_since_vacuum", v13 ? "t.n_ins_since_vacuum, " : ""),
      fmt::arg("last_vacuum", rfc3339_sql("t.last_vacuum")),
      fmt::arg("last_autovacuum", rfc3339_sql("t.last_autovacuum")),
      fmt::arg("last_analyze", rfc3339_sql("t.last_analyze")),
      fmt::arg("last_autoanalyze", rfc3339_sql("t.last_autoanalyze")),
      fmt::arg("table_indexes", index_blocks_of("t.relid")), fmt::arg("toast_indexes", index_blocks_of("t.toast_relid")));
}

std::string pg_stats_index_sql(int version) {
  return fmt::format(
      "SELECT current_database() AS datname, s.schemaname, s.relname, s.indexrelname, s.relid::bigint AS relid, "
      "s.indexrelid::bigint AS indexrelid, s.idx_scan, {last_idx_scan}s.idx_tup_read, s.idx_tup_fetch, "
      "io.idx_blks_read, io.idx_blks_hit, s.index_size AS index_size_bytes "
      // Ranked by the catalog's page count, sized exactly only once kept (see pg_stats_table_sql).
      "FROM (SELECT u.*, pg_relation_size(u.indexrelid) AS index_size FROM (SELECT u.* FROM pg_stat_user_indexes u "
      "JOIN pg_class ic ON ic.oid = u.indexrelid ORDER BY ic.relpages DESC, u.indexrelid LIMIT $1) u) s "
      "LEFT JOIN pg_statio_user_indexes io ON io.indexrelid = s.indexrelid ORDER BY s.index_size DESC, s.indexrelid",
      fmt::arg("last_idx_scan", version >= 160000 ? rfc3339_sql("s.last_idx_scan") + " AS last_idx_scan, " : ""));
}

CollectorPtr make_pg_stats_table(std::shared_ptr<DatabaseSessions> databases, std::int64_t max_objects_per_database) {
  return std::make_unique<PerDatabaseCollector>("pg_stats_table", std::move(databases), pg_stats_table_sql,
                                                max_objects_per_database);
}

CollectorPtr make_pg_stats_index(std::shared_ptr<DatabaseSessions> databases, std::int64_t max_objects_per_database) {
  return std::make_unique<PerDatabaseCollector>("pg_stats_index", std::move(databases), pg_stats_index_sql,
                                                max_objects_per_database);
}

}  // namespace pga::agent::collectors
