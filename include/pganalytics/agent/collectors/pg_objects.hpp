// The per-database object families, pg_stats_table and pg_stats_index: read in every database
// of the instance through its DatabaseSessions, at most max_objects_per_database rows each.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pganalytics/agent/collector.hpp"
#include "pganalytics/agent/collectors/database_sessions.hpp"

namespace pga::agent::collectors {

// Tables always sent besides the biggest ones: those with the oldest relfrozenxid, so a small
// table heading for wraparound is never hidden by the cap.
inline constexpr int kWraparoundTablesPerDatabase = 10;

// pg_stat_user_tables + pg_statio_user_tables + sizes + relfrozenxid age, one row per table.
CollectorPtr make_pg_stats_table(std::shared_ptr<DatabaseSessions> databases, std::int64_t max_objects_per_database);
// pg_stat_user_indexes + pg_statio_user_indexes + size, one row per index.
CollectorPtr make_pg_stats_index(std::shared_ptr<DatabaseSessions> databases, std::int64_t max_objects_per_database);

// The sizes of the objects whose ids are $1 (oid[]), each row the id then the sizes.
std::string pg_stats_table_sizes_sql();
std::string pg_stats_index_sizes_sql();

}  // namespace pga::agent::collectors
