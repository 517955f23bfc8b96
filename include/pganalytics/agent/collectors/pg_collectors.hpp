// PostgreSQL collectors: each family's SQL chosen by the instance's server_version_num
// (PostgreSQL 12 to 17, see shared PG_VERSIONS.md), run on the instance's PgSession.
#pragma once
#include <memory>

#include "pganalytics/agent/collector.hpp"
#include "pganalytics/agent/collectors/pg_session.hpp"

namespace pga::agent::collectors {

// pg_stat_database + pg_stat_database_conflicts + size and freeze ages, one row per database.
CollectorPtr make_pg_stats_database(std::shared_ptr<PgSession> session);
// The epoch of the instance: system identifier, timeline, postmaster start, recovery state.
CollectorPtr make_pg_instance(std::shared_ptr<PgSession> session);

// The SQL each collector runs for a server version (exposed for tests).
std::string pg_stats_database_sql(int server_version_num);

}  // namespace pga::agent::collectors
