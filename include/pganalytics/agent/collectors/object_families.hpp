// pg_stats_table and pg_stats_index as object families: which objects of a database are kept
// (their catalog statement), whose statistics make each row, and how the row is made of them.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pganalytics/agent/collectors/relation_stats.hpp"
#include "pganalytics/db/pg_connection.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

// One kept object of a database's catalog: a table (id = relid) or an index (id = indexrelid).
struct CatalogEntry {
  std::int64_t id = 0;
  std::int64_t relid = 0;
  std::string schemaname, relname, indexrelname;
  bool freezes = false;               // a table with a relfrozenxid (relkind r or m)
  std::optional<std::int64_t> toast;  // its TOAST table
  std::vector<std::int64_t> indexes, toast_indexes;
};

// An object's row as sent, and its size fingerprint (see SizedObject).
struct Composed {
  metrics::Row row;
  std::string size_fingerprint;
};

// What tells pg_stats_table and pg_stats_index apart: their catalog statement, the relations
// whose statistics make a row, and how the row is made of them.
class ObjectFamily {
 public:
  virtual ~ObjectFamily() = default;
  virtual std::string catalog_sql() const = 0;  // the same in every supported version
  virtual CatalogEntry entry_of(const db::PgResult& catalog, int row) const = 0;
  // Adds the relations `entry` is made of to the tables (read whole) and the others.
  virtual void relations_of(const CatalogEntry& entry, std::vector<std::int64_t>& tables,
                            std::vector<std::int64_t>& others) const = 0;
  virtual const std::vector<std::string>& columns() const = 0;
  // The row of `entry`, or none when its relation is gone (dropped since the catalog was read).
  virtual std::optional<Composed> compose(const std::string& datname, const CatalogEntry& entry,
                                          const RelationStatsCache& stats, std::uint32_t next_xid) const = 0;
};

std::unique_ptr<ObjectFamily> make_table_family();
std::unique_ptr<ObjectFamily> make_index_family();

// The columns of every row sent, whatever the version (a figure it lacks is NULL), sizes excluded.
const std::vector<std::string>& pg_stats_table_columns();
const std::vector<std::string>& pg_stats_index_columns();
// The kept objects of a database (exposed for tests); $1 is the cap.
std::string pg_stats_table_catalog_sql();
std::string pg_stats_index_catalog_sql();

}  // namespace pga::agent::collectors
