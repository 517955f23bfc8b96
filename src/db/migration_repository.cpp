// SQL of the migration runner. The schema_migrations table is created here rather than by a
// migration, because the runner needs it before it can know which migrations ran.
#include "pganalytics/db/migration_repository.hpp"

namespace pga::db::migration_repository {
namespace {
// An arbitrary constant shared by every pganalytics process that migrates ("pgamigr" in ASCII).
constexpr const char* kLockKey = "31082733449015922";
}  // namespace

void lock(PgConnection& conn) { conn.exec("SELECT pg_advisory_lock($1::bigint)", {kLockKey}); }

void unlock(PgConnection& conn) { conn.exec("SELECT pg_advisory_unlock($1::bigint)", {kLockKey}); }

void ensure_table(PgConnection& conn) {
  conn.exec("CREATE SCHEMA IF NOT EXISTS pganalytics");
  conn.exec(
      "CREATE TABLE IF NOT EXISTS pganalytics.schema_migrations ("
      " version integer PRIMARY KEY,"
      " name text NOT NULL,"
      " checksum text NOT NULL,"
      " applied_at timestamptz NOT NULL DEFAULT now(),"
      " duration_ms bigint NOT NULL DEFAULT 0)");
}

std::vector<AppliedRow> applied(PgConnection& conn) {
  auto exists = conn.exec("SELECT to_regclass('pganalytics.schema_migrations') IS NOT NULL");
  if (exists.get(0, 0) != "t") return {};
  auto result = conn.exec(
      "SELECT version, name, checksum, to_char(applied_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
      " FROM pganalytics.schema_migrations ORDER BY version");
  std::vector<AppliedRow> rows;
  for (int r = 0; r < result.rows(); ++r)
    rows.push_back({static_cast<int>(result.get_int(r, 0)), std::string(result.get(r, 1)),
                    std::string(result.get(r, 2)), std::string(result.get(r, 3))});
  return rows;
}

void record(PgConnection& conn, int version, const std::string& name, const std::string& checksum,
            long long duration_ms) {
  conn.exec("INSERT INTO pganalytics.schema_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)",
            {std::to_string(version), name, checksum, std::to_string(duration_ms)});
}

void begin(PgConnection& conn) { conn.exec("BEGIN"); }
void commit(PgConnection& conn) { conn.exec("COMMIT"); }
void rollback(PgConnection& conn) { conn.exec("ROLLBACK"); }

}  // namespace pga::db::migration_repository
