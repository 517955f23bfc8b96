// Applies embedded migrations in order. Each runs in its own transaction together with its
// schema_migrations row, so a failed migration leaves nothing half-applied.
#include "pganalytics/db/migrations.hpp"

#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <map>

#include "pganalytics/db/migration_repository.hpp"

namespace pga::db {

namespace repo = migration_repository;

std::string sha256_hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
  return hex;
}

int migration_version(std::string_view name) {
  int version = 0;
  std::size_t digits = 0;
  while (digits < name.size() && name[digits] >= '0' && name[digits] <= '9')
    version = version * 10 + (name[digits++] - '0');
  return digits == 0 ? -1 : version;
}

MigrationRunner::MigrationRunner(PgConnection& conn, std::vector<EmbeddedMigration> migrations)
    : conn_(conn), migrations_(std::move(migrations)) {}

std::vector<MigrationState> MigrationRunner::compare_with_database() {
  std::map<int, repo::AppliedRow> applied;
  for (auto& row : repo::applied(conn_)) applied.emplace(row.version, row);
  std::vector<MigrationState> states;
  for (const auto& m : migrations_) {
    MigrationState state{migration_version(m.name), std::string(m.name), sha256_hex(m.sql), {},
                         MigrationState::Kind::Pending};
    if (auto it = applied.find(state.version); it != applied.end()) {
      state.applied_at = it->second.applied_at;
      state.kind = it->second.checksum == state.checksum ? MigrationState::Kind::Applied
                                                         : MigrationState::Kind::Changed;
      applied.erase(it);
    }
    states.push_back(std::move(state));
  }
  for (auto& [version, row] : applied)
    states.push_back({version, row.name, row.checksum, row.applied_at, MigrationState::Kind::Unknown});
  std::stable_sort(states.begin(), states.end(),
                   [](const auto& a, const auto& b) { return a.version < b.version; });
  return states;
}

std::vector<MigrationState> MigrationRunner::status() { return compare_with_database(); }

int MigrationRunner::apply(const std::function<void(const std::string&)>& progress) {
  repo::lock(conn_);
  struct Unlock {
    PgConnection& conn;
    ~Unlock() {
      try {
        repo::unlock(conn);
      } catch (...) {
        // The lock is session-level: closing the connection releases it anyway.
      }
    }
  } unlock{conn_};

  repo::ensure_table(conn_);
  auto states = compare_with_database();
  for (const auto& s : states) {
    if (s.kind == MigrationState::Kind::Changed)
      throw MigrationError(fmt::format(
          "migration {} was changed after it was applied (recorded checksum differs from this binary's); "
          "refusing to continue. Restore the original file or write a new migration.",
          s.name));
    if (s.kind == MigrationState::Kind::Unknown)
      throw MigrationError(fmt::format(
          "the database has migration {} ({}) which this binary does not know: it was migrated by a newer "
          "pganalytics",
          s.version, s.name));
  }
  int applied_count = 0;
  for (const auto& s : states) {
    if (s.kind != MigrationState::Kind::Pending) continue;
    const auto& migration = *std::find_if(migrations_.begin(), migrations_.end(),
                                          [&](const auto& m) { return m.name == s.name; });
    progress(fmt::format("applying {} ...", s.name));
    auto started = std::chrono::steady_clock::now();
    repo::begin(conn_);
    try {
      conn_.exec_script(migration.sql);
      auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      repo::record(conn_, s.version, s.name, s.checksum, ms.count());
      repo::commit(conn_);
      progress(fmt::format("applied {} in {} ms", s.name, ms.count()));
    } catch (const DbError& e) {
      repo::rollback(conn_);
      throw MigrationError(fmt::format("migration {} failed and was rolled back: {}", s.name, e.what()));
    }
    ++applied_count;
  }
  return applied_count;
}

}  // namespace pga::db
