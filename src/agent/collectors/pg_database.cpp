// pg_stats_database. Columns a version lacks are simply not selected (the server stores them as
// NULL); renamed ones are aliased to the registry's names.
#include "pganalytics/agent/collectors/pg_collectors.hpp"
#include "pganalytics/agent/collectors/sql_collector.hpp"

namespace pga::agent::collectors {

std::string pg_stats_database_sql(int version) {
  std::string columns =
      "d.datname, d.datid::bigint AS datid, d.numbackends::bigint AS numbackends, d.xact_commit, d.xact_rollback, "
      "d.blks_read, d.blks_hit, d.tup_returned, d.tup_fetched, d.tup_inserted, d.tup_updated, d.tup_deleted, "
      "d.conflicts, d.temp_files, d.temp_bytes, d.deadlocks, d.checksum_failures, " +
      rfc3339_sql("d.checksum_last_failure") + " AS checksum_last_failure, d.blk_read_time, d.blk_write_time, " +
      rfc3339_sql("d.stats_reset") +
      " AS stats_reset, c.confl_tablespace, c.confl_lock, c.confl_snapshot, c.confl_bufferpin, c.confl_deadlock, "
      "CASE WHEN has_database_privilege(d.datid, 'CONNECT') THEN pg_database_size(d.datid) END AS database_size_bytes, "
      "age(db.datfrozenxid)::bigint AS datfrozenxid_age, mxid_age(db.datminmxid)::bigint AS datminmxid_age";
  if (version >= 140000)
    columns +=
        ", d.session_time, d.active_time, d.idle_in_transaction_time, d.sessions, d.sessions_abandoned, "
        "d.sessions_fatal, d.sessions_killed";
  if (version >= 160000) columns += ", c.confl_active_logicalslot";
  return "SELECT " + columns +
         " FROM pg_stat_database d JOIN pg_database db ON db.oid = d.datid"
         " LEFT JOIN pg_stat_database_conflicts c ON c.datid = d.datid"
         " WHERE d.datname IS NOT NULL ORDER BY d.datname";
}

CollectorPtr make_pg_stats_database(std::shared_ptr<PgSession> session) {
  return std::make_unique<SqlCollector>("pg_stats_database", std::move(session),
                                        std::vector<StatementFor>{pg_stats_database_sql});
}

}  // namespace pga::agent::collectors
