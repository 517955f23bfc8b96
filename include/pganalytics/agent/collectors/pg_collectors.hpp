// PostgreSQL collectors: each family's SQL chosen by the instance's server_version_num
// (PostgreSQL 12 to 17, see shared PG_VERSIONS.md), run on the instance's PgSession.
#pragma once
#include <memory>
#include <string>

#include "pganalytics/agent/collector.hpp"
#include "pganalytics/agent/collectors/pg_session.hpp"

namespace pga::agent::collectors {

// pg_stat_database + pg_stat_database_conflicts + size and freeze ages, one row per database.
CollectorPtr make_pg_stats_database(std::shared_ptr<PgSession> session);
// The epoch of the instance: system identifier, timeline, postmaster start, recovery state; a
// row with up = false when the instance cannot be reached.
CollectorPtr make_pg_instance(std::shared_ptr<PgSession> session);
// Background writer and checkpointer counters.
CollectorPtr make_pg_bgwriter(std::shared_ptr<PgSession> session);
// pg_stat_wal, WAL positions (primary or standby) and the size of pg_wal.
CollectorPtr make_pg_wal(std::shared_ptr<PgSession> session);
// WAL senders, replication slots and the WAL receiver, one row each.
CollectorPtr make_replication(std::shared_ptr<PgSession> session);
// Sessions grouped by database, state, wait event type and backend type.
CollectorPtr make_pg_activity(std::shared_ptr<PgSession> session);
// Locks grouped by database, lock type, mode and granted.
CollectorPtr make_pg_locks(std::shared_ptr<PgSession> session);

// The SQL each collector runs for a server version (exposed for tests).
std::string pg_stats_database_sql(int server_version_num);
// The sizes of the databases whose oids are $1 (oid[]).
std::string pg_database_sizes_sql();
std::string pg_instance_sql();
// `quoted_schema` is the extension's schema as quote_ident() returned it.
std::string pg_stat_statements_info_sql(const std::string& quoted_schema);
std::string pg_bgwriter_sql(int server_version_num);
std::string pg_wal_sql(int server_version_num);
std::string replication_senders_sql(int server_version_num);
std::string replication_slots_sql(int server_version_num);
std::string replication_receiver_sql(int server_version_num);
std::string pg_activity_sql(int server_version_num);
std::string pg_locks_sql(int server_version_num);

}  // namespace pga::agent::collectors
