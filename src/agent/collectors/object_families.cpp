// The two object families: their catalog statements, and their rows composed as pg_stat_user_*
// and pg_statio_user_* define them from the relations' statistics.
#include "pganalytics/agent/collectors/object_families.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "pganalytics/agent/collectors/pg_objects.hpp"

namespace pga::agent::collectors {
namespace {

// The objects of user schemas, as pg_stat_user_* filter them.
constexpr const char* kUserSchema =
    "n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'";

std::vector<std::int64_t> ids_of(std::string_view array) {  // "{1,2}" as PostgreSQL prints bigint[]
  std::vector<std::int64_t> ids;
  std::size_t at = 1;
  while (at + 1 < array.size()) {
    const auto end = std::min(array.find(',', at), array.size() - 1);
    ids.push_back(std::stoll(std::string(array.substr(at, end - at))));
    at = end + 1;
  }
  return ids;
}

metrics::Cell difference(const RelationStats& stats, RelationStat minuend, RelationStat subtrahend) {
  const auto* a = stats.integer(minuend);
  const auto* b = stats.integer(subtrahend);
  return a && b ? metrics::Cell{*a - *b} : metrics::Cell{nullptr};
}

// "2026-11-26T03:35:38.5Z" as a key that orders by time (fractions have 0 to 6 digits).
std::string time_order(const std::string& rfc3339) {
  if (rfc3339.size() < 20) return rfc3339;
  auto fraction = rfc3339.substr(19, rfc3339.size() - 20);  // ".5" or ""
  fraction.resize(7, '0');
  return rfc3339.substr(0, 19) + fraction;
}

// Sums (or the latest timestamp) of one figure over relations, as SQL's sum() and max() over
// them: NULL when there are none.
class Over {
 public:
  Over(const RelationStatsCache& stats, const std::vector<std::int64_t>& oids) {
    for (const auto oid : oids)
      if (const auto* found = stats.find(oid)) relations_.push_back(found);
  }
  metrics::Cell sum(RelationStat stat, std::optional<RelationStat> minus = std::nullopt) const {
    if (relations_.empty()) return nullptr;
    std::int64_t total = 0;
    for (const auto* relation : relations_) {
      const auto* value = relation->integer(stat);
      const auto* subtracted = minus ? relation->integer(*minus) : nullptr;
      total += (value ? *value : 0) - (subtracted ? *subtracted : 0);
    }
    return total;
  }
  metrics::Cell latest(RelationStat stat) const {
    metrics::Cell latest = nullptr;
    for (const auto* relation : relations_) {
      auto value = (*relation)[stat];
      const auto* text = std::get_if<std::string>(&value);
      const auto* so_far = std::get_if<std::string>(&latest);
      if (text && (!so_far || time_order(*text) > time_order(*so_far))) latest = std::move(value);
    }
    return latest;
  }

 private:
  std::vector<const RelationStats*> relations_;
};

std::string fingerprint_of(std::initializer_list<metrics::Cell> cells) {
  std::string fingerprint;
  for (const auto& cell : cells) {
    const auto* value = std::get_if<std::int64_t>(&cell);
    (fingerprint += value ? std::to_string(*value) : "-") += '/';
  }
  return fingerprint;
}

metrics::Cell age_of(const RelationStats& table, std::uint32_t next_xid) {
  const auto* xid = table.integer(RelationStat::relfrozenxid);
  return xid ? metrics::Cell{xid_age(static_cast<std::uint32_t>(*xid), next_xid)} : metrics::Cell{nullptr};
}

class TableFamily : public ObjectFamily {
 public:
  // The cap keeps the biggest tables by the catalog's page counts of heap and TOAST (kept current
  // by VACUUM and ANALYZE), plus the oldest by relfrozenxid.
  std::string catalog_sql() const override {
    return fmt::format(
        "WITH candidates AS (SELECT c.oid AS relid, n.nspname AS schemaname, c.relname, c.relkind, "
        "NULLIF(c.reltoastrelid, 0::oid) AS toast_relid, "
        "greatest(c.relpages, 0)::bigint + coalesce(greatest(tc.relpages, 0), 0) AS pages, "
        // Only tables and materialized views have a relfrozenxid; age() calls 0 infinitely old.
        "CASE WHEN c.relkind IN ('r', 'm') THEN age(c.relfrozenxid) END AS xid_age "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN LATERAL (SELECT relpages FROM pg_class WHERE oid = c.reltoastrelid) tc ON true "
        "WHERE c.relkind IN ('r', 't', 'm', 'p') AND {user_schema}), "
        "kept AS ((SELECT relid FROM candidates ORDER BY pages DESC, relid LIMIT $1) UNION "
        "(SELECT relid FROM candidates WHERE xid_age IS NOT NULL ORDER BY xid_age DESC, relid LIMIT {wraparound})) "
        "SELECT t.relid::bigint AS relid, t.schemaname, t.relname, t.relkind IN ('r', 'm') AS freezes, "
        "t.toast_relid::bigint AS toast_relid, "
        "ARRAY(SELECT indexrelid::bigint FROM pg_index WHERE indrelid = t.relid ORDER BY 1) AS indexes, "
        "ARRAY(SELECT indexrelid::bigint FROM pg_index WHERE indrelid = t.toast_relid ORDER BY 1) AS toast_indexes "
        "FROM candidates t JOIN kept USING (relid) ORDER BY t.relid",
        fmt::arg("user_schema", kUserSchema), fmt::arg("wraparound", kWraparoundTablesPerDatabase));
  }

  CatalogEntry entry_of(const db::PgResult& catalog, int r) const override {
    CatalogEntry entry;
    entry.id = entry.relid = catalog.get_int(r, 0);
    entry.schemaname = catalog.get(r, 1);
    entry.relname = catalog.get(r, 2);
    entry.freezes = catalog.get(r, 3) == "t";
    if (!catalog.is_null(r, 4)) entry.toast = catalog.get_int(r, 4);
    entry.indexes = ids_of(catalog.get(r, 5));
    entry.toast_indexes = ids_of(catalog.get(r, 6));
    return entry;
  }

  void relations_of(const CatalogEntry& entry, std::vector<std::int64_t>& tables,
                    std::vector<std::int64_t>& others) const override {
    tables.push_back(entry.relid);
    if (entry.toast) others.push_back(*entry.toast);
    others.insert(others.end(), entry.indexes.begin(), entry.indexes.end());
    others.insert(others.end(), entry.toast_indexes.begin(), entry.toast_indexes.end());
  }

  const std::vector<std::string>& columns() const override { return pg_stats_table_columns(); }

  // As pg_stat_user_tables and pg_statio_user_tables define each figure; tidx_blks_* follow the
  // PostgreSQL 15+ definition in every version (before 15 the view counted each TOAST index once
  // per index of the table).
  std::optional<Composed> compose(const std::string& datname, const CatalogEntry& entry,
                                  const RelationStatsCache& stats, std::uint32_t next_xid) const override {
    const auto* table = stats.find(entry.relid);
    // relfrozenxid comes from pg_class (0 for a partitioned table): NULL means the table is gone.
    if (!table || !table->integer(RelationStat::relfrozenxid)) return std::nullopt;
    const auto& t = *table;
    using S = RelationStat;
    const Over indexes(stats, entry.indexes);
    const Over toast_indexes(stats, entry.toast_indexes);
    const auto* toast = entry.toast ? stats.find(*entry.toast) : nullptr;
    const auto fetched_by_indexes = indexes.sum(S::tuples_fetched);
    const auto* table_fetched = t.integer(S::tuples_fetched);
    const auto* index_fetched = std::get_if<std::int64_t>(&fetched_by_indexes);
    Composed composed;
    composed.row = {
        datname, entry.schemaname, entry.relname, entry.relid,
        t[S::numscans], t[S::lastscan], t[S::tuples_returned],
        indexes.sum(S::numscans), indexes.latest(S::lastscan),
        index_fetched && table_fetched ? metrics::Cell{*index_fetched + *table_fetched} : metrics::Cell{nullptr},
        t[S::tuples_inserted], t[S::tuples_updated], t[S::tuples_deleted], t[S::tuples_hot_updated],
        t[S::tuples_newpage_updated], t[S::live_tuples], t[S::dead_tuples], t[S::mod_since_analyze],
        t[S::ins_since_vacuum], t[S::last_vacuum_time], t[S::last_autovacuum_time], t[S::last_analyze_time],
        t[S::last_autoanalyze_time], t[S::vacuum_count], t[S::autovacuum_count], t[S::analyze_count],
        t[S::autoanalyze_count], difference(t, S::blocks_fetched, S::blocks_hit), t[S::blocks_hit],
        indexes.sum(S::blocks_fetched, S::blocks_hit), indexes.sum(S::blocks_hit),
        toast ? difference(*toast, S::blocks_fetched, S::blocks_hit) : metrics::Cell{nullptr},
        toast ? (*toast)[S::blocks_hit] : metrics::Cell{nullptr},
        toast_indexes.sum(S::blocks_fetched, S::blocks_hit), toast_indexes.sum(S::blocks_hit),
        entry.freezes ? age_of(t, next_xid) : metrics::Cell{nullptr}};
    // Rows written, vacuums (which truncate and make the free space and visibility maps), new
    // files (TRUNCATE, CLUSTER, VACUUM FULL) and an index created or dropped. A REINDEX of one of
    // its indexes shows in indexes_size_bytes at the latest after kSizeMaxAge.
    composed.size_fingerprint = fingerprint_of(
        {t[S::tuples_inserted], t[S::tuples_updated], t[S::tuples_deleted], t[S::vacuum_count],
         t[S::autovacuum_count], t[S::filenode], toast ? (*toast)[S::filenode] : metrics::Cell{nullptr},
         static_cast<std::int64_t>(entry.indexes.size())});
    return composed;
  }
};

class IndexFamily : public ObjectFamily {
 public:
  // The indexes of pg_stat_user_indexes, ranked by the catalog's page count.
  std::string catalog_sql() const override {
    return fmt::format(
        "SELECT i.oid::bigint AS indexrelid, c.oid::bigint AS relid, n.nspname AS schemaname, c.relname, "
        "i.relname AS indexrelname FROM pg_class c JOIN pg_index x ON x.indrelid = c.oid "
        "JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 't', 'm') AND {user_schema} ORDER BY i.relpages DESC, i.oid LIMIT $1",
        fmt::arg("user_schema", kUserSchema));
  }

  CatalogEntry entry_of(const db::PgResult& catalog, int r) const override {
    CatalogEntry entry;
    entry.id = catalog.get_int(r, 0);
    entry.relid = catalog.get_int(r, 1);
    entry.schemaname = catalog.get(r, 2);
    entry.relname = catalog.get(r, 3);
    entry.indexrelname = catalog.get(r, 4);
    return entry;
  }

  void relations_of(const CatalogEntry& entry, std::vector<std::int64_t>&,
                    std::vector<std::int64_t>& others) const override {
    others.push_back(entry.id);
  }

  const std::vector<std::string>& columns() const override { return pg_stats_index_columns(); }

  std::optional<Composed> compose(const std::string& datname, const CatalogEntry& entry,
                                  const RelationStatsCache& stats, std::uint32_t) const override {
    const auto* index = stats.find(entry.id);
    // An index always has a file: none means it is gone.
    if (!index || !index->integer(RelationStat::filenode)) return std::nullopt;
    const auto& i = *index;
    using S = RelationStat;
    Composed composed;
    composed.row = {datname, entry.schemaname, entry.relname, entry.indexrelname, entry.relid, entry.id,
                    i[S::numscans], i[S::lastscan], i[S::tuples_returned], i[S::tuples_fetched],
                    difference(i, S::blocks_fetched, S::blocks_hit), i[S::blocks_hit]};
    // Every insert into an index and every vacuum of it reads its pages; REINDEX gives it a new file.
    composed.size_fingerprint = fingerprint_of({i[S::blocks_fetched], i[S::blocks_hit], i[S::filenode]});
    return composed;
  }
};

}  // namespace

std::unique_ptr<ObjectFamily> make_table_family() { return std::make_unique<TableFamily>(); }
std::unique_ptr<ObjectFamily> make_index_family() { return std::make_unique<IndexFamily>(); }

const std::vector<std::string>& pg_stats_table_columns() {
  static const std::vector<std::string> columns{
      "datname", "schemaname", "relname", "relid", "seq_scan", "last_seq_scan", "seq_tup_read", "idx_scan",
      "last_idx_scan", "idx_tup_fetch", "n_tup_ins", "n_tup_upd", "n_tup_del", "n_tup_hot_upd", "n_tup_newpage_upd",
      "n_live_tup", "n_dead_tup", "n_mod_since_analyze", "n_ins_since_vacuum", "last_vacuum", "last_autovacuum",
      "last_analyze", "last_autoanalyze", "vacuum_count", "autovacuum_count", "analyze_count", "autoanalyze_count",
      "heap_blks_read", "heap_blks_hit", "idx_blks_read", "idx_blks_hit", "toast_blks_read", "toast_blks_hit",
      "tidx_blks_read", "tidx_blks_hit", "relfrozenxid_age"};
  return columns;
}

const std::vector<std::string>& pg_stats_index_columns() {
  static const std::vector<std::string> columns{"datname", "schemaname", "relname", "indexrelname",
                                                "relid", "indexrelid", "idx_scan", "last_idx_scan",
                                                "idx_tup_read", "idx_tup_fetch", "idx_blks_read", "idx_blks_hit"};
  return columns;
}

std::string pg_stats_table_catalog_sql() { return TableFamily().catalog_sql(); }
std::string pg_stats_index_catalog_sql() { return IndexFamily().catalog_sql(); }

}  // namespace pga::agent::collectors
