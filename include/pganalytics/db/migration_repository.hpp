// All SQL the migration runner issues against pganalytics.schema_migrations.
#pragma once
#include <string>
#include <vector>

#include "pganalytics/db/pg_connection.hpp"

namespace pga::db::migration_repository {

struct AppliedRow {
  int version;
  std::string name;
  std::string checksum;
  std::string applied_at;
};

// Session-level advisory lock: concurrent `pganalytics migrate` runs (or servers starting
// together) wait for each other instead of racing.
void lock(PgConnection& conn);
void unlock(PgConnection& conn);
void ensure_table(PgConnection& conn);
std::vector<AppliedRow> applied(PgConnection& conn);  // empty when the table does not exist
void record(PgConnection& conn, int version, const std::string& name, const std::string& checksum,
            long long duration_ms);
void begin(PgConnection& conn);
void commit(PgConnection& conn);
void rollback(PgConnection& conn);

}  // namespace pga::db::migration_repository
