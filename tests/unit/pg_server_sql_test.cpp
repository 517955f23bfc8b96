// The SQL of the instance-wide families for PostgreSQL 12, 13, 14, 16 and 17: each version selects
// exactly the columns its views have (PG_VERSIONS.md), under registry names, from the right views.
#include <doctest/doctest.h>

#include <set>
#include <string>
#include <vector>

#include "pganalytics/agent/collectors/pg_collectors.hpp"
#include "pganalytics/metrics/registry.hpp"

using namespace pga::agent::collectors;
using Columns = std::set<std::string>;

namespace {

std::string trimmed(std::string text) {
  while (!text.empty() && text.front() == ' ') text.erase(text.begin());
  while (!text.empty() && text.back() == ' ') text.pop_back();
  return text;
}

// The output names of a SELECT: its list split at top-level commas up to the top-level FROM, each
// item named by its alias or else by its last dotted part.
Columns selected_columns(const std::string& sql) {
  REQUIRE(sql.starts_with("SELECT "));
  std::vector<std::string> items(1);
  int depth = 0;
  bool quoted = false;
  for (std::size_t i = 7; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'') quoted = !quoted;
    if (!quoted && c == '(') ++depth;
    if (!quoted && c == ')') --depth;
    if (!quoted && depth == 0 && sql.compare(i, 6, " FROM ") == 0) break;
    if (!quoted && depth == 0 && c == ',') {
      items.emplace_back();
      continue;
    }
    items.back() += c;
  }
  Columns names;
  for (auto item : items) {
    item = trimmed(item);
    const auto alias = item.rfind(" AS ");
    names.insert(alias != std::string::npos ? item.substr(alias + 4) : item.substr(item.rfind('.') + 1));
  }
  return names;
}

Columns joined(Columns columns, const Columns& more) {
  columns.insert(more.begin(), more.end());
  return columns;
}

bool contains(const std::string& sql, const std::string& part) { return sql.find(part) != std::string::npos; }

void check_registry(const std::string& family, const Columns& columns) {
  const auto* spec = pga::metrics::find_family(family);
  REQUIRE(spec);
  for (const auto& column : columns) {
    INFO(family << "." << column);
    CHECK(spec->find_column(column));
  }
}

constexpr int kVersions[] = {120000, 130000, 140000, 160000, 170000};

}  // namespace

TEST_CASE("the column parser reads aliases, qualified names and nested commas") {
  CHECK(selected_columns("SELECT a.b, greatest(1, 2) AS c, 'x,y' AS d, e FROM t") == Columns{"b", "c", "d", "e"});
}

TEST_CASE("pg_bgwriter reads pg_stat_checkpointer from 17 and the old bgwriter columns before") {
  const Columns before_17{"checkpoints_timed", "checkpoints_req", "checkpoint_write_time", "checkpoint_sync_time",
                          "buffers_checkpoint", "buffers_clean", "maxwritten_clean", "buffers_backend",
                          "buffers_backend_fsync", "buffers_alloc", "stats_reset"};
  const Columns from_17{"buffers_clean", "maxwritten_clean", "buffers_alloc", "stats_reset", "num_timed",
                        "num_requested", "restartpoints_timed", "restartpoints_req", "restartpoints_done", "write_time",
                        "sync_time", "buffers_written", "checkpointer_stats_reset"};
  for (int version : kVersions) {
    INFO(version);
    const auto sql = pg_bgwriter_sql(version);
    CHECK(selected_columns(sql) == (version >= 170000 ? from_17 : before_17));
    CHECK(contains(sql, "pg_stat_checkpointer") == (version >= 170000));
    check_registry("pg_bgwriter", selected_columns(sql));
  }
}

TEST_CASE("pg_wal reads pg_stat_wal from 14 and WAL positions and pg_wal's size in every version") {
  const Columns positions{"current_lsn", "receive_lsn", "replay_lsn", "replay_lag_seconds", "wal_files",
                          "wal_size_bytes"};
  const Columns stat_wal{"wal_records", "wal_fpi", "wal_bytes", "wal_buffers_full", "wal_write", "wal_sync",
                         "wal_write_time", "wal_sync_time", "stats_reset"};
  for (int version : kVersions) {
    INFO(version);
    const auto sql = pg_wal_sql(version);
    CHECK(selected_columns(sql) == (version >= 140000 ? joined(positions, stat_wal) : positions));
    CHECK(contains(sql, "pg_stat_wal ") == (version >= 140000));
    CHECK(contains(sql, "pg_ls_waldir()"));
    // A standby raises an error for pg_current_wal_lsn(): it must only run outside recovery.
    CHECK(contains(sql, "CASE WHEN NOT pg_is_in_recovery() THEN (pg_current_wal_lsn()"));
    check_registry("pg_wal", selected_columns(sql));
  }
}

TEST_CASE("replication senders are read alike in every version, with LSNs as bytes") {
  const Columns senders{"kind", "name", "pid", "usesysid", "usename", "application_name", "client_addr",
                        "client_hostname", "client_port", "backend_start", "backend_xmin", "state", "sync_state",
                        "sync_priority", "reply_time", "sent_lsn", "write_lsn", "flush_lsn", "replay_lsn",
                        "write_lag", "flush_lag", "replay_lag", "lag_bytes"};
  for (int version : kVersions) {
    INFO(version);
    const auto sql = replication_senders_sql(version);
    CHECK(selected_columns(sql) == senders);
    CHECK(contains(sql, "(sent_lsn - '0/0')::bigint"));
    check_registry("replication", selected_columns(sql));
  }
}

TEST_CASE("replication slots gain columns version by version") {
  const Columns v12{"kind", "name", "plugin", "slot_type", "datoid", "database", "temporary", "active",
                    "active_pid", "slot_xmin", "catalog_xmin", "restart_lsn", "confirmed_flush_lsn",
                    "retained_wal_bytes"};
  const auto v13 = joined(v12, {"wal_status", "safe_wal_size"});
  const auto v14 = joined(v13, {"two_phase", "spill_txns", "spill_count", "spill_bytes", "stream_txns",
                                "stream_count", "stream_bytes", "total_txns", "total_bytes", "stats_reset"});
  const auto v16 = joined(v14, {"conflicting"});
  const auto v17 = joined(v16, {"inactive_since", "invalidation_reason", "failover", "synced"});
  CHECK(selected_columns(replication_slots_sql(120000)) == v12);
  CHECK(selected_columns(replication_slots_sql(130000)) == v13);
  CHECK(selected_columns(replication_slots_sql(140000)) == v14);
  CHECK(selected_columns(replication_slots_sql(160000)) == v16);
  CHECK(selected_columns(replication_slots_sql(170000)) == v17);
  CHECK_FALSE(contains(replication_slots_sql(130000), "pg_stat_replication_slots"));
  CHECK(contains(replication_slots_sql(140000), "LEFT JOIN pg_stat_replication_slots"));
  check_registry("replication", v17);
}

TEST_CASE("the WAL receiver's flushed position is received_lsn in 12 and flushed_lsn from 13") {
  const Columns common{"kind", "name", "pid", "status", "receive_start_lsn", "receive_start_tli", "received_tli",
                       "last_msg_send_time", "last_msg_receipt_time", "latest_end_lsn", "latest_end_time",
                       "slot_name", "sender_host", "sender_port"};
  const auto v12 = replication_receiver_sql(120000);
  CHECK(selected_columns(v12) == joined(common, {"flushed_lsn"}));
  CHECK(contains(v12, "(received_lsn - '0/0')::bigint AS flushed_lsn"));
  for (int version : {130000, 140000, 160000, 170000}) {
    INFO(version);
    const auto sql = replication_receiver_sql(version);
    CHECK(selected_columns(sql) == joined(common, {"written_lsn", "flushed_lsn"}));
    CHECK_FALSE(contains(sql, "received_lsn"));
    check_registry("replication", selected_columns(sql));
  }
}

TEST_CASE("pg_activity groups sessions, counts blocked ones and leaves the agent's own out") {
  const Columns activity{"datname", "state", "wait_event_type", "backend_type", "sessions",
                         "oldest_xact_age_seconds", "oldest_query_age_seconds", "oldest_state_change_seconds",
                         "blocked_sessions"};
  for (int version : kVersions) {
    INFO(version);
    const auto sql = pg_activity_sql(version);
    CHECK(selected_columns(sql) == activity);
    CHECK(contains(sql, "cardinality(pg_blocking_pids(pid)) > 0"));
    CHECK(contains(sql, "pid <> pg_backend_pid()"));
    check_registry("pg_activity", activity);
  }
}

TEST_CASE("pg_locks has the oldest wait only from 14, where waitstart appeared") {
  const Columns locks{"datname", "locktype", "mode", "granted", "locks"};
  for (int version : kVersions) {
    INFO(version);
    const auto sql = pg_locks_sql(version);
    CHECK(selected_columns(sql) == (version >= 140000 ? joined(locks, {"oldest_wait_seconds"}) : locks));
    CHECK(contains(sql, "waitstart") == (version >= 140000));
    CHECK(contains(sql, "LEFT JOIN pg_database"));
    check_registry("pg_locks", selected_columns(sql));
  }
}

TEST_CASE("pg_instance says up and reads pg_stat_statements_info from the extension's schema") {
  const auto instance = selected_columns(pg_instance_sql());
  CHECK(instance.count("up"));
  check_registry("pg_instance", instance);
  const auto info = pg_stat_statements_info_sql("\"my schema\"");
  CHECK(selected_columns(info) == Columns{"pg_stat_statements_dealloc", "pg_stat_statements_stats_reset"});
  CHECK(contains(info, " FROM \"my schema\".pg_stat_statements_info"));
  check_registry("pg_instance", selected_columns(info));
}

TEST_CASE("timestamps read as ISO text in UTC become RFC 3339") {
  CHECK(rfc3339_from_iso("2026-11-26 03:35:38.123456+00") == "2026-11-26T03:35:38.123456Z");
  CHECK(rfc3339_from_iso("2026-11-26 03:35:38.1+00") == "2026-11-26T03:35:38.1Z");
  CHECK(rfc3339_from_iso("2026-11-26 03:35:38+00") == "2026-11-26T03:35:38Z");
  // Anything else is left as it is, for the sample check to refuse with the column's name.
  CHECK(rfc3339_from_iso("2026-11-26 03:35:38+01") == "2026-11-26 03:35:38+01");
  CHECK(rfc3339_from_iso("infinity") == "infinity");
  CHECK(rfc3339_from_iso("") == "");
}
