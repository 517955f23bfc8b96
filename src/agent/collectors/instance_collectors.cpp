// Every collector of one monitored PostgreSQL instance. The instance-wide families share the
// instance's PgSession; families read per database hold their own connections within the budget.
#include "pganalytics/agent/collectors/instance_collectors.hpp"

#include "pganalytics/agent/collectors/pg_collectors.hpp"
#include "pganalytics/agent/collectors/pg_session.hpp"

namespace pga::agent::collectors {

std::vector<CollectorPtr> make_instance_collectors(const InstanceConfig& instance, const InstanceEnvironment& env) {
  auto session = std::make_shared<PgSession>(env.executor, instance.name, instance.conninfo);
  std::vector<CollectorPtr> collectors;
  collectors.push_back(make_pg_instance(session));
  collectors.push_back(make_pg_stats_database(session));
  return collectors;
}

}  // namespace pga::agent::collectors
