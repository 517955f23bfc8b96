// `pganalytics user add NAME --role admin|user|viewer [--config FILE]`: creates a user whose
// password is read from standard input (first line), hashed with argon2id.
#include <fmt/format.h>

#include <iostream>

#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/run_async.hpp"
#include "pganalytics/common/server_config.hpp"
#include "pganalytics/security/password.hpp"
#include "pganalytics/server/repository.hpp"

namespace pga::cli {
namespace {

struct UserOptions {
  std::string config_path = "/etc/pganalytics/server.toml";
  std::string name;
  std::string role;
};

std::string read_password() {
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (password.size() < 8) throw UsageError("the password (read from standard input) needs at least 8 characters");
  if (password.size() > security::kMaxPasswordBytes) throw UsageError("the password is too long");
  return password;
}

boost::asio::awaitable<std::int64_t> add_user(boost::asio::any_io_executor ex, std::string url, std::string name,
                                              std::string hash, std::string role) {
  auto conn = co_await db::AsyncConnection::connect(ex, url, std::chrono::seconds(10));
  auto id = co_await server::repo::create_user(*conn, name, hash, role);
  server::repo::AuditEntry entry{"cli", "user.add", name, true, "", fmt::format(R"({{"role":"{}"}})", role)};
  co_await server::repo::audit(*conn, entry);
  co_return id;
}

}  // namespace

Subcommand add_user_command(CLI::App& root) {
  auto* app = root.add_subcommand("user", "Manage users");
  app->require_subcommand(1);
  auto* add = app->add_subcommand("add", "Create a user; the password is read from standard input");
  auto options = std::make_shared<UserOptions>();
  add->add_option("NAME", options->name, "user name")->required()->check([](const std::string& name) {
    return name.empty() || name.size() > 64 ? std::string("a user name has 1 to 64 characters") : std::string();
  });
  add->add_option("--role", options->role, "admin, user or viewer")
      ->required()
      ->check(CLI::IsMember({"admin", "user", "viewer"}));
  add->add_option("--config", options->config_path, "server configuration file")->capture_default_str();
  return {app, [options]() {
            auto config = load_server_config(options->config_path);
            if (config.database_url.empty())
              throw config::ConfigError(config.file, 0, "database.url", "is empty: users are stored in the database");
            auto hash = security::argon2id_hash_encoded(read_password());
            try {
              pga::run_async<std::int64_t>([&](boost::asio::any_io_executor ex) {
                return add_user(ex, config.database_url, options->name, hash, options->role);
              });
            } catch (const db::DbError& e) {
              if (e.sqlstate() != "23505") throw;
              throw std::runtime_error("user \"" + options->name + "\" already exists");
            }
            fmt::print(stderr, "created {} user \"{}\"\n", options->role, options->name);
            return kExitOk;
          }};
}

}  // namespace pga::cli
