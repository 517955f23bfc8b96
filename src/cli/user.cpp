// `pganalytics user add|list|set-role|disable|enable|passwd NAME … [--config FILE]`: user
// management from the server host, straight on the storage database, with the same rules as
// the API (password policy, never the last enabled admin) and audited as actor "cli".
// Passwords are read from standard input (first line), never from the command line.
#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include <iostream>

#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/run_async.hpp"
#include "pganalytics/common/server_config.hpp"
#include "pganalytics/security/password.hpp"
#include "pganalytics/security/password_policy.hpp"
#include "pganalytics/server/session_repository.hpp"
#include "pganalytics/server/user_repository.hpp"

namespace pga::cli {
namespace {

namespace repo = server::repo;
using boost::asio::awaitable;

struct UserOptions {
  std::string config_path = "/etc/pganalytics/server.toml";
  std::string name;
  std::string role;
};

std::string read_password(const std::string& username) {
  std::string password;
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  if (auto problem = security::password_problem(username, password))
    throw UsageError(*problem + " (the password is read from standard input)");
  return password;
}

std::string database_url(const std::string& config_path) {
  auto config = load_server_config(config_path);
  if (config.database_url.empty())
    throw config::ConfigError(config.file, 0, "database.url", "is empty: users are stored in the database");
  return config.database_url;
}

awaitable<std::unique_ptr<db::AsyncConnection>> connect(boost::asio::any_io_executor ex, const std::string& url) {
  co_return co_await db::AsyncConnection::connect(ex, url, std::chrono::seconds(10));
}

awaitable<void> audit_cli(db::AsyncConnection& conn, std::string action, std::string target, std::string detail) {
  const repo::AuditEntry entry{"cli", std::move(action), std::move(target), true, "", std::move(detail)};
  co_await repo::audit(conn, entry);
}

awaitable<int> add_user(boost::asio::any_io_executor ex, std::string url, std::string name, std::string hash,
                        std::string role) {
  auto conn = co_await connect(ex, url);
  const auto added = co_await repo::add_user(*conn, name, hash, role);
  if (std::holds_alternative<repo::Refused>(added)) throw std::runtime_error("user \"" + name + "\" already exists");
  co_await audit_cli(*conn, "user.create", name, fmt::format(R"({{"role":"{}"}})", role));
  co_return kExitOk;
}

awaitable<int> list_users(boost::asio::any_io_executor ex, std::string url) {
  auto conn = co_await connect(ex, url);
  const auto users = boost::json::parse(co_await repo::list_users_json(*conn)).as_array();
  fmt::print("{:<6} {:<24} {:<7} {:<9} {}\n", "ID", "NAME", "ROLE", "STATE", "LAST LOGIN");
  for (const auto& value : users) {
    const auto& user = value.as_object();
    const auto& last = user.at("last_login_at");
    fmt::print("{:<6} {:<24} {:<7} {:<9} {}\n", user.at("id").as_int64(), std::string(user.at("username").as_string()),
               std::string(user.at("role").as_string()), user.at("disabled").as_bool() ? "disabled" : "enabled",
               last.is_string() ? std::string(last.as_string()) : std::string("never"));
  }
  co_return kExitOk;
}

// set-role, disable, enable, passwd: one change to the user called `name`.
awaitable<int> change_user(boost::asio::any_io_executor ex, std::string url, std::string name, repo::UserChange change,
                           std::string detail) {
  auto conn = co_await connect(ex, url);
  const auto user = co_await repo::find_user_by_name(*conn, name);
  if (!user) throw std::runtime_error("no user \"" + name + "\"");
  const auto changed = co_await repo::change_user(*conn, user->id, change);
  if (const auto* refused = std::get_if<repo::Refused>(&changed)) {
    if (refused->refusal == repo::Refusal::LastAdmin)
      throw std::runtime_error("\"" + name + "\" is the last enabled admin; make another user admin first");
    throw std::runtime_error("no user \"" + name + "\"");
  }
  std::int64_t revoked = 0;
  if (change.disabled == true) revoked = co_await repo::revoke_user_sessions(*conn, user->id, "user disabled");
  else if (change.password_hash) revoked = co_await repo::revoke_user_sessions(*conn, user->id, "password reset");
  co_await audit_cli(*conn, "user.update", name, detail);
  if (revoked) fmt::print(stderr, "{} session(s) of \"{}\" revoked\n", revoked, name);
  co_return kExitOk;
}

CLI::App* with_config(CLI::App* command, const std::shared_ptr<UserOptions>& options) {
  command->add_option("--config", options->config_path, "server configuration file")->capture_default_str();
  return command;
}

void name_argument(CLI::App* command, const std::shared_ptr<UserOptions>& options) {
  command->add_option("NAME", options->name, "user name")->required()->check([](const std::string& name) {
    return security::username_problem(name).value_or(std::string());
  });
}

void role_option(CLI::App* command, const std::shared_ptr<UserOptions>& options) {
  command->add_option("--role", options->role, "admin, user or viewer")
      ->required()
      ->check(CLI::IsMember({"admin", "user", "viewer"}));
}

int run(std::function<awaitable<int>(boost::asio::any_io_executor)> task) { return pga::run_async<int>(task); }

}  // namespace

Subcommand add_user_command(CLI::App& root) {
  auto* app = root.add_subcommand("user", "Manage users");
  app->require_subcommand(1);
  auto options = std::make_shared<UserOptions>();
  auto* add = with_config(app->add_subcommand("add", "Create a user; the password is read from standard input"),
                          options);
  name_argument(add, options);
  role_option(add, options);
  auto* list = with_config(app->add_subcommand("list", "List users with their role and state"), options);
  auto* set_role = with_config(app->add_subcommand("set-role", "Change a user's role (from their next request)"),
                               options);
  name_argument(set_role, options);
  role_option(set_role, options);
  auto* disable = with_config(app->add_subcommand("disable", "Disable a user and end their sessions"), options);
  name_argument(disable, options);
  auto* enable = with_config(app->add_subcommand("enable", "Enable a disabled user again"), options);
  name_argument(enable, options);
  auto* passwd = with_config(
      app->add_subcommand("passwd", "Set a user's password (read from standard input) and end their sessions"),
      options);
  name_argument(passwd, options);

  return {app, [=]() {
            const auto url = database_url(options->config_path);
            const auto name = options->name;
            if (add->parsed()) {
              const auto hash = security::argon2id_hash_encoded(read_password(name));
              run([&](auto ex) { return add_user(ex, url, name, hash, options->role); });
              fmt::print(stderr, "created {} user \"{}\"\n", options->role, name);
              return kExitOk;
            }
            if (list->parsed()) return run([&](auto ex) { return list_users(ex, url); });
            repo::UserChange change;
            std::string detail;
            if (set_role->parsed()) {
              change.role = options->role;
              detail = fmt::format(R"({{"role":"{}"}})", options->role);
            } else if (disable->parsed() || enable->parsed()) {
              change.disabled = disable->parsed();
              detail = fmt::format(R"({{"disabled":{}}})", disable->parsed());
            } else {
              change.password_hash = security::argon2id_hash_encoded(read_password(name));
              detail = R"({"password_reset":true})";
            }
            run([&](auto ex) { return change_user(ex, url, name, change, detail); });
            fmt::print(stderr, "changed user \"{}\"\n", name);
            return kExitOk;
          }};
}

}  // namespace pga::cli
