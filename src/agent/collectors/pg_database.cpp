// pg_stats_database and pg_instance. Columns a version lacks are simply not selected (the server
// stores them as NULL); renamed ones are aliased to the registry's names.
#include <fmt/format.h>

#include "pganalytics/agent/collectors/pg_collectors.hpp"

namespace pga::agent::collectors {
namespace {

class SqlCollector : public Collector {
 public:
  SqlCollector(std::string family, std::shared_ptr<PgSession> session, std::string (*sql_for)(int))
      : family_(std::move(family)), session_(std::move(session)), sql_for_(sql_for) {}
  const std::string& family() const override { return family_; }
  const std::string& instance() const override { return session_->instance(); }

  boost::asio::awaitable<std::vector<metrics::Sample>> collect() override {
    const int version = co_await session_->server_version_num();
    const auto sql = sql_for_(version);
    const auto at = std::chrono::system_clock::now();
    auto result = co_await session_->query(sql.c_str());
    std::vector<metrics::Sample> samples;
    samples.push_back(sample_from_result(family_, session_->instance(), at, result));
    co_return samples;
  }

 private:
  std::string family_;
  std::shared_ptr<PgSession> session_;
  std::string (*sql_for_)(int);
};

std::string pg_instance_sql(int) {
  return fmt::format(
      "SELECT s.system_identifier, c.timeline_id, current_setting('server_version_num')::bigint AS server_version_num, "
      "{} AS postmaster_start_time, pg_is_in_recovery() AS in_recovery, true AS up, "
      "current_setting('max_connections')::bigint AS max_connections, "
      "(SELECT max(age(datfrozenxid)) FROM pg_database)::bigint AS oldest_xid_age, "
      "(SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements') AS pg_stat_statements_version "
      "FROM pg_control_system() s, pg_control_checkpoint() c",
      rfc3339_sql("pg_postmaster_start_time()"));
}

}  // namespace

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
  return std::make_unique<SqlCollector>("pg_stats_database", std::move(session), pg_stats_database_sql);
}

CollectorPtr make_pg_instance(std::shared_ptr<PgSession> session) {
  return std::make_unique<SqlCollector>("pg_instance", std::move(session), pg_instance_sql);
}

}  // namespace pga::agent::collectors
