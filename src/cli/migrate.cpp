// `pganalytics migrate [--config FILE] [--database-url URL] [--status]`: applies the embedded
// sql/migrations to the server's database, or lists what is applied and pending.
#include <fmt/format.h>

#include <filesystem>

#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/server_config.hpp"
#include "pganalytics/db/migrations.hpp"

namespace pga::cli {
namespace {

struct MigrateOptions {
  std::string config_path = "/etc/pganalytics/server.toml";
  bool config_given = false;
  std::string database_url;
  bool status = false;
};

std::string resolve_database_url(const MigrateOptions& options) {
  if (!options.database_url.empty()) return options.database_url;
  if (!options.config_given && !std::filesystem::exists(options.config_path))
    throw UsageError(fmt::format("--database-url: no database given, and {} does not exist (use --config FILE)",
                                 options.config_path));
  auto config = load_server_config(options.config_path);
  if (config.database_url.empty())
    throw config::ConfigError(config.file, 0, "database.url",
                              "is empty (a managed database): run `pganalytics server` to migrate it, or set it");
  return config.database_url;
}

const char* kind_label(db::MigrationState::Kind kind) {
  switch (kind) {
    case db::MigrationState::Kind::Applied: return "applied";
    case db::MigrationState::Kind::Pending: return "pending";
    case db::MigrationState::Kind::Changed: return "CHANGED";
    case db::MigrationState::Kind::Unknown: return "UNKNOWN";
  }
  return "";
}

int print_status(db::MigrationRunner& runner) {
  int pending = 0;
  int problems = 0;
  fmt::print("{:<8} {:<32} {:<10} {}\n", "version", "name", "state", "applied at");
  for (const auto& s : runner.status()) {
    pending += s.kind == db::MigrationState::Kind::Pending;
    problems += s.kind == db::MigrationState::Kind::Changed || s.kind == db::MigrationState::Kind::Unknown;
    fmt::print("{:<8} {:<32} {:<10} {}\n", s.version, s.name, kind_label(s.kind), s.applied_at);
  }
  fmt::print("{} pending, {} with problems\n", pending, problems);
  return problems ? kExitFailure : kExitOk;
}

}  // namespace

Subcommand add_migrate(CLI::App& root) {
  auto* app = root.add_subcommand("migrate", "Apply the schema migrations to the server database");
  auto options = std::make_shared<MigrateOptions>();
  app->add_option("--config", options->config_path, "server configuration, for [database] url")
      ->each([options](const std::string&) { options->config_given = true; });
  app->add_option("--database-url", options->database_url, "libpq URL or conninfo; overrides the configuration");
  app->add_flag("--status", options->status, "list applied and pending migrations, change nothing");
  return {app, [options]() {
            auto conn = db::PgConnection::connect(resolve_database_url(*options));
            db::MigrationRunner runner(conn);
            if (options->status) return print_status(runner);
            int applied = runner.apply([](const std::string& line) { fmt::print("{}\n", line); });
            if (applied)
              fmt::print("{} migration(s) applied; the schema is up to date\n", applied);
            else
              fmt::print("nothing to do: the schema is up to date\n");
            return kExitOk;
          }};
}

}  // namespace pga::cli
