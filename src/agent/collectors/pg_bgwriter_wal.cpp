// pg_bgwriter and pg_wal: the background writer and checkpointer counters (pg_stat_checkpointer
// from 17), pg_stat_wal (14+), the WAL position on a primary or standby, and pg_wal's size.
#include "pganalytics/agent/collectors/pg_collectors.hpp"
#include "pganalytics/agent/collectors/sql_collector.hpp"

namespace pga::agent::collectors {

std::string pg_bgwriter_sql(int version) {
  if (version >= 170000)
    // 17 moved the checkpointer to its own view under new names (kept as PostgreSQL spells them)
    // and dropped buffers_backend(_fsync) for pg_stat_io.
    return "SELECT b.buffers_clean, b.maxwritten_clean, b.buffers_alloc, " + rfc3339_sql("b.stats_reset") +
           " AS stats_reset, c.num_timed, c.num_requested, c.restartpoints_timed, c.restartpoints_req, "
           "c.restartpoints_done, c.write_time, c.sync_time, c.buffers_written, " +
           rfc3339_sql("c.stats_reset") +
           " AS checkpointer_stats_reset FROM pg_stat_bgwriter b CROSS JOIN pg_stat_checkpointer c";
  return "SELECT checkpoints_timed, checkpoints_req, checkpoint_write_time, checkpoint_sync_time, "
         "buffers_checkpoint, buffers_clean, maxwritten_clean, buffers_backend, buffers_backend_fsync, "
         "buffers_alloc, " +
         rfc3339_sql("stats_reset") + " AS stats_reset FROM pg_stat_bgwriter";
}

std::string pg_wal_sql(int version) {
  // pg_current_wal_lsn() raises an error during recovery and the pg_last_wal_* functions are NULL
  // on a primary, so each side fills its own columns. The replay lag counts only while WAL is
  // waiting to be replayed: an idle primary must not look like a lagging standby.
  std::string columns =
      "CASE WHEN NOT pg_is_in_recovery() THEN (pg_current_wal_lsn() - '0/0')::bigint END AS current_lsn, "
      "(pg_last_wal_receive_lsn() - '0/0')::bigint AS receive_lsn, "
      "(pg_last_wal_replay_lsn() - '0/0')::bigint AS replay_lsn, "
      "CASE WHEN pg_is_in_recovery() THEN CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
      "ELSE greatest(0, extract(epoch FROM now() - pg_last_xact_replay_timestamp())) END END AS replay_lag_seconds, "
      // Segment files only, as in postgres_exporter: history and .partial files are not WAL to replay.
      "f.wal_files, f.wal_size_bytes";
  std::string from =
      " FROM (SELECT count(*) AS wal_files, coalesce(sum(size), 0)::bigint AS wal_size_bytes "
      "FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{24}$') f";
  if (version >= 140000) {
    columns += ", w.wal_records, w.wal_fpi, w.wal_bytes::bigint AS wal_bytes, w.wal_buffers_full, w.wal_write, "
               "w.wal_sync, w.wal_write_time, w.wal_sync_time, " + rfc3339_sql("w.stats_reset") + " AS stats_reset";
    from += " CROSS JOIN pg_stat_wal w";
  }
  return "SELECT " + columns + from;
}

CollectorPtr make_pg_bgwriter(std::shared_ptr<PgSession> session) {
  return std::make_unique<SqlCollector>("pg_bgwriter", std::move(session), std::vector<StatementFor>{pg_bgwriter_sql});
}

CollectorPtr make_pg_wal(std::shared_ptr<PgSession> session) {
  return std::make_unique<SqlCollector>("pg_wal", std::move(session), std::vector<StatementFor>{pg_wal_sql});
}

}  // namespace pga::agent::collectors
