// pg_instance: the epoch of an instance (system identifier, timeline, postmaster start) and
// whether the agent can reach it. An unreachable instance still gets a row, with up = false.
#include <fmt/format.h>

#include <optional>

#include "pganalytics/agent/collectors/pg_collectors.hpp"

namespace pga::agent::collectors {
namespace {

// pg_stat_statements_info exists from extension version 1.9, only in databases where the
// extension is created, in the schema it was created in.
constexpr const char* kStatementsInfoSchemaSql =
    "SELECT quote_ident(n.nspname) FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
    "WHERE e.extname = 'pg_stat_statements' AND string_to_array(e.extversion, '.')::int[] >= '{1,9}'::int[]";
// The extension is created but its library is not in shared_preload_libraries.
constexpr std::string_view kObjectNotInPrerequisiteState = "55000";

metrics::Sample unreachable_sample(const std::string& instance, std::chrono::system_clock::time_point at) {
  metrics::Sample sample{"pg_instance", instance, at, {"up"}, {}};
  sample.rows.push_back(metrics::Row{metrics::Cell{false}});
  return sample;
}

// Adds the columns of the one-row `extra` to the one row of `sample`.
void append_columns(metrics::Sample& sample, metrics::Sample extra) {
  for (std::size_t c = 0; c < extra.columns.size(); ++c) {
    sample.columns.push_back(std::move(extra.columns[c]));
    sample.rows.front().push_back(std::move(extra.rows.front()[c]));
  }
}

class PgInstanceCollector : public Collector {
 public:
  explicit PgInstanceCollector(std::shared_ptr<PgSession> session) : session_(std::move(session)) {}
  const std::string& family() const override { return family_; }
  const std::string& instance() const override { return session_->instance(); }

  boost::asio::awaitable<std::vector<metrics::Sample>> collect() override {
    const auto at = std::chrono::system_clock::now();
    std::vector<metrics::Sample> samples;
    std::optional<db::PgResult> epoch;
    try {
      const auto sql = pg_instance_sql();
      auto result = co_await session_->query(sql.c_str());
      epoch.emplace(std::move(result));
    } catch (const db::DbUnavailable&) {
      // Down, refusing connections or timed out: the other collectors of the instance log why.
    }
    if (!epoch) {
      samples.push_back(unreachable_sample(session_->instance(), at));
      co_return samples;
    }
    samples.push_back(sample_from_result(family_, session_->instance(), at, *epoch));
    auto schema = co_await session_->query(kStatementsInfoSchemaSql);
    if (schema.rows() == 1) {
      const auto sql = pg_stat_statements_info_sql(std::string(schema.get(0, 0)));
      std::optional<db::PgResult> info;
      try {
        auto result = co_await session_->query(sql.c_str());
        info.emplace(std::move(result));
      } catch (const db::DbError& e) {
        if (e.sqlstate() != kObjectNotInPrerequisiteState) throw;
      }
      if (info) append_columns(samples.front(), sample_from_result(family_, session_->instance(), at, *info));
    }
    co_return samples;
  }

 private:
  std::string family_ = "pg_instance";
  std::shared_ptr<PgSession> session_;
};

}  // namespace

std::string pg_instance_sql() {
  return fmt::format(
      "SELECT s.system_identifier, c.timeline_id, current_setting('server_version_num')::bigint AS server_version_num, "
      "{} AS postmaster_start_time, pg_is_in_recovery() AS in_recovery, true AS up, "
      "current_setting('max_connections')::bigint AS max_connections, "
      "(SELECT max(age(datfrozenxid)) FROM pg_database)::bigint AS oldest_xid_age, "
      "(SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements') AS pg_stat_statements_version "
      "FROM pg_control_system() s, pg_control_checkpoint() c",
      rfc3339_sql("pg_postmaster_start_time()"));
}

std::string pg_stat_statements_info_sql(const std::string& quoted_schema) {
  // A relation name cannot be a statement parameter; the schema comes quoted by quote_ident().
  return "SELECT dealloc AS pg_stat_statements_dealloc, " + rfc3339_sql("stats_reset") +
         " AS pg_stat_statements_stats_reset FROM " + quoted_schema + ".pg_stat_statements_info";
}

CollectorPtr make_pg_instance(std::shared_ptr<PgSession> session) {
  return std::make_unique<PgInstanceCollector>(std::move(session));
}

}  // namespace pga::agent::collectors
