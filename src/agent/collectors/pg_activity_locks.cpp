// pg_activity and pg_locks: sessions and locks counted per group rather than listed, so a busy
// instance costs a few rows per sample. The agent's own session is left out of both.
#include "pganalytics/agent/collectors/pg_collectors.hpp"
#include "pganalytics/agent/collectors/sql_collector.hpp"

namespace pga::agent::collectors {

// Key columns may not be NULL (the server refuses such rows): '' stands for none, i.e. no database
// (background processes, shared catalogs), no state, not waiting.
std::string pg_activity_sql(int) {
  // pg_blocking_pids() takes every lock-manager partition lock, so it is asked only about sessions
  // that wait on a heavyweight lock or a safe snapshot, the only waits it can explain.
  return "SELECT coalesce(datname::text, '') AS datname, coalesce(state, '') AS state, "
         "coalesce(wait_event_type, '') AS wait_event_type, backend_type, count(*) AS sessions, "
         "extract(epoch FROM max(now() - xact_start)) AS oldest_xact_age_seconds, "
         "extract(epoch FROM max(now() - query_start)) AS oldest_query_age_seconds, "
         "extract(epoch FROM max(now() - state_change)) AS oldest_state_change_seconds, "
         "count(*) FILTER (WHERE CASE WHEN wait_event_type = 'Lock' OR wait_event = 'SafeSnapshot' "
         "THEN cardinality(pg_blocking_pids(pid)) > 0 ELSE false END) AS blocked_sessions "
         "FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
         "GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";
}

std::string pg_locks_sql(int version) {
  // Locks on shared catalogs (database 0) and on no relation at all have no database name.
  std::string columns = "coalesce(d.datname::text, '') AS datname, l.locktype, l.mode, l.granted, count(*) AS locks";
  if (version >= 140000) columns += ", extract(epoch FROM now() - min(l.waitstart)) AS oldest_wait_seconds";
  return "SELECT " + columns +
         " FROM pg_locks l LEFT JOIN pg_database d ON d.oid = l.database "
         "WHERE l.pid IS DISTINCT FROM pg_backend_pid() GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4";
}

CollectorPtr make_pg_activity(std::shared_ptr<PgSession> session) {
  return std::make_unique<SqlCollector>("pg_activity", std::move(session), std::vector<StatementFor>{pg_activity_sql});
}

CollectorPtr make_pg_locks(std::shared_ptr<PgSession> session) {
  return std::make_unique<SqlCollector>("pg_locks", std::move(session), std::vector<StatementFor>{pg_locks_sql});
}

}  // namespace pga::agent::collectors
