// Every collector of one monitored PostgreSQL instance. The instance-wide families share the
// instance's PgSession; families read per database hold their own connections within the budget.
#include "pganalytics/agent/collectors/instance_collectors.hpp"

#include "pganalytics/agent/collectors/database_sessions.hpp"
#include "pganalytics/agent/collectors/pg_collectors.hpp"
#include "pganalytics/agent/collectors/pg_log_collector.hpp"
#include "pganalytics/agent/collectors/pg_objects.hpp"
#include "pganalytics/agent/collectors/pg_session.hpp"
#include "pganalytics/agent/collectors/pg_statements.hpp"

namespace pga::agent::collectors {

std::vector<CollectorPtr> make_instance_collectors(const InstanceConfig& instance, const InstanceEnvironment& env) {
  auto session = std::make_shared<PgSession>(env.executor, instance.name, instance.conninfo);
  std::vector<CollectorPtr> collectors;
  collectors.push_back(make_pg_instance(session));
  collectors.push_back(make_pg_stats_database(session));
  auto databases = std::make_shared<DatabaseSessions>(env.executor, session, instance.conninfo,
                                                      database_connection_budget(instance.max_connections));
  collectors.push_back(make_pg_stats_table(databases, instance.max_objects_per_database));
  collectors.push_back(make_pg_stats_index(databases, instance.max_objects_per_database));
  collectors.push_back(make_pg_bgwriter(session));
  collectors.push_back(make_pg_wal(session));
  collectors.push_back(make_replication(session));
  collectors.push_back(make_pg_activity(session));
  collectors.push_back(make_pg_locks(session));
  collectors.push_back(make_pg_statements(session, instance.statements_top_n, env.query_texts));
  collectors.push_back(make_pg_log(session, instance, env.state_dir));
  return collectors;
}

}  // namespace pga::agent::collectors
