// replication: one row per WAL sender (kind 'sender'), per replication slot ('slot') and for the
// WAL receiver of a standby ('receiver'). LSNs travel as bytes since 0/0, lags as seconds.
#include "pganalytics/agent/collectors/pg_collectors.hpp"
#include "pganalytics/agent/collectors/sql_collector.hpp"

namespace pga::agent::collectors {
namespace {

// Bytes since 0/0 of a pg_lsn expression, NULL when it is NULL.
std::string lsn_bytes(const std::string& lsn) { return "(" + lsn + " - '0/0')::bigint"; }

// Where this instance's WAL stands: a standby has no pg_current_wal_lsn() (it raises an error
// during recovery), so what it has replayed is what its own senders and slots are measured by.
constexpr const char* kInstanceLsn =
    "CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END";

}  // namespace

std::string replication_senders_sql(int) {
  // pg_stat_replication has the same columns from 12 to 17. Keys may not be NULL (the server
  // refuses such rows), hence the coalesce of names here and below.
  return "SELECT 'sender' AS kind, coalesce(application_name, '') AS name, pid, usesysid::bigint AS usesysid, "
         "usename::text AS usename, application_name, host(client_addr) AS client_addr, client_hostname, "
         "client_port, " + rfc3339_sql("backend_start") + " AS backend_start, "
         "backend_xmin::text::bigint AS backend_xmin, state, sync_state, sync_priority, " +
         rfc3339_sql("reply_time") + " AS reply_time, " + lsn_bytes("sent_lsn") + " AS sent_lsn, " +
         lsn_bytes("write_lsn") + " AS write_lsn, " + lsn_bytes("flush_lsn") + " AS flush_lsn, " +
         lsn_bytes("replay_lsn") + " AS replay_lsn, extract(epoch FROM write_lag) AS write_lag, "
         "extract(epoch FROM flush_lag) AS flush_lag, extract(epoch FROM replay_lag) AS replay_lag, (" +
         std::string(kInstanceLsn) + " - replay_lsn)::bigint AS lag_bytes FROM pg_stat_replication ORDER BY pid";
}

std::string replication_slots_sql(int version) {
  std::string columns = "'slot' AS kind, s.slot_name AS name, s.plugin::text AS plugin, s.slot_type, "
                        "s.datoid::bigint AS datoid, s.database::text AS database, s.temporary, s.active, s.active_pid, "
                        "s.xmin::text::bigint AS slot_xmin, s.catalog_xmin::text::bigint AS catalog_xmin, " +
                        lsn_bytes("s.restart_lsn") + " AS restart_lsn, " + lsn_bytes("s.confirmed_flush_lsn") +
                        " AS confirmed_flush_lsn, (" + kInstanceLsn + " - s.restart_lsn)::bigint AS retained_wal_bytes";
  std::string from = " FROM pg_replication_slots s";
  if (version >= 130000) columns += ", s.wal_status, s.safe_wal_size";
  if (version >= 140000) {
    columns += ", s.two_phase, st.spill_txns, st.spill_count, st.spill_bytes, st.stream_txns, st.stream_count, "
               "st.stream_bytes, st.total_txns, st.total_bytes, " + rfc3339_sql("st.stats_reset") + " AS stats_reset";
    // Only logical slots have statistics: physical ones keep NULL counters.
    from += " LEFT JOIN pg_stat_replication_slots st ON st.slot_name = s.slot_name";
  }
  if (version >= 160000) columns += ", s.conflicting";
  if (version >= 170000)
    columns += ", " + rfc3339_sql("s.inactive_since") +
               " AS inactive_since, s.invalidation_reason, s.failover, s.synced";
  return "SELECT " + columns + from + " ORDER BY s.slot_name";
}

std::string replication_receiver_sql(int version) {
  // 13 replaced received_lsn (received and flushed) with written_lsn and flushed_lsn; 12's value is
  // the flushed position, so it is stored under that name.
  const std::string positions = version >= 130000
                                    ? lsn_bytes("written_lsn") + " AS written_lsn, " + lsn_bytes("flushed_lsn") +
                                          " AS flushed_lsn"
                                    : lsn_bytes("received_lsn") + " AS flushed_lsn";
  // The receiver is named after the upstream it streams from; there is at most one.
  return "SELECT 'receiver' AS kind, coalesce(sender_host || ':' || sender_port, '') AS name, pid, status, " +
         lsn_bytes("receive_start_lsn") + " AS receive_start_lsn, receive_start_tli, " + positions +
         ", received_tli, " + rfc3339_sql("last_msg_send_time") + " AS last_msg_send_time, " +
         rfc3339_sql("last_msg_receipt_time") + " AS last_msg_receipt_time, " + lsn_bytes("latest_end_lsn") +
         " AS latest_end_lsn, " + rfc3339_sql("latest_end_time") +
         " AS latest_end_time, slot_name, sender_host, sender_port FROM pg_stat_wal_receiver";
}

CollectorPtr make_replication(std::shared_ptr<PgSession> session) {
  std::vector<StatementFor> statements{replication_senders_sql, replication_slots_sql, replication_receiver_sql};
  return std::make_unique<SqlCollector>("replication", std::move(session), std::move(statements));
}

}  // namespace pga::agent::collectors
