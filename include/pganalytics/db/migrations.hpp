// Schema migrations: the numbered sql/migrations files compiled into the binary, and the runner
// that applies them in order, once each, under an advisory lock, with checksums recorded.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pganalytics/db/pg_connection.hpp"

namespace pga::db {

struct EmbeddedMigration {
  std::string_view name;  // file name without ".sql", e.g. "0001_metadata"
  std::string_view sql;
};

// Generated at build time from sql/migrations (cmake/embed_migrations.cmake), in file order.
const std::vector<EmbeddedMigration>& embedded_migrations();

struct MigrationState {
  int version = 0;
  std::string name;
  std::string checksum;    // sha256 hex of the file's text
  std::string applied_at;  // empty when pending
  enum class Kind { Applied, Pending, Changed, Unknown } kind = Kind::Pending;
};

// A migration that cannot be applied safely (changed after being applied, or unknown to this
// binary). The database is left untouched.
class MigrationError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

class MigrationRunner {
 public:
  explicit MigrationRunner(PgConnection& conn, std::vector<EmbeddedMigration> migrations = embedded_migrations());

  // Every known migration, applied ones first, with what the database records of them.
  std::vector<MigrationState> status();
  // Applies pending migrations, each in its own transaction; returns how many were applied.
  // Reports progress through `progress` (one call before and one after each migration).
  int apply(const std::function<void(const std::string&)>& progress);

 private:
  std::vector<MigrationState> compare_with_database();
  PgConnection& conn_;
  std::vector<EmbeddedMigration> migrations_;
};

std::string sha256_hex(std::string_view data);
int migration_version(std::string_view name);  // "0003_x" -> 3; -1 if the name has no number

}  // namespace pga::db
