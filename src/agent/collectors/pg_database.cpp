// pg_stats_database. Columns a version lacks are simply not selected (the server stores them as
// NULL); renamed ones are aliased to the registry's names. Sizes are read apart (Sizing).
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

// pg_database_size stats every file of the database: for a database of 1,000 tables that cost
// more than all of pg_stat_database. Its size moves with the rows written (catalog rows included:
// every CREATE, DROP and TRUNCATE writes some) and with vacuum truncating, which SizeCache's
// refresh catches. A database written to all the time is sized once a minute, not every cycle.
std::string pg_database_sizes_sql() {
  return "SELECT d.oid::bigint, CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END "
         "AS database_size_bytes FROM pg_database d WHERE d.oid = ANY($1::oid[])";
}

CollectorPtr make_pg_stats_database(std::shared_ptr<PgSession> session) {
  ResultFingerprint fingerprint{"datid", {"tup_inserted", "tup_updated", "tup_deleted"}};
  Sizing sizing{pg_database_sizes_sql(), {"database_size_bytes"}, std::chrono::minutes(1)};
  return std::make_unique<SqlCollector>("pg_stats_database", std::move(session), pg_stats_database_sql,
                                        std::move(fingerprint), std::move(sizing));
}

}  // namespace pga::agent::collectors
