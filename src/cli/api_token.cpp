// `pganalytics api-token create NAME --user U [--role R] [--ttl 90d] [--config FILE]`: an API
// token for user U, alone on standard output (the only time it is shown; only its hash is
// stored). The role defaults to the user's own and may not exceed it.
#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/run_async.hpp"
#include "pganalytics/common/server_config.hpp"
#include "pganalytics/security/random.hpp"
#include "pganalytics/server/access.hpp"
#include "pganalytics/server/authenticate.hpp"
#include "pganalytics/server/user_repository.hpp"

namespace pga::cli {
namespace {

namespace repo = server::repo;

struct ApiTokenOptions {
  std::string config_path = "/etc/pganalytics/server.toml";
  std::string name;
  std::string user;
  std::string role;
  std::string ttl = "90d";
};

boost::asio::awaitable<std::string> create_token(boost::asio::any_io_executor ex, std::string url,
                                                 ApiTokenOptions options, std::int64_t ttl_seconds) {
  auto conn = co_await db::AsyncConnection::connect(ex, url, std::chrono::seconds(10));
  const auto user = co_await repo::find_user_by_name(*conn, options.user);
  if (!user) throw UsageError("--user: no user \"" + options.user + "\"");
  if (user->disabled) throw UsageError("--user: \"" + options.user + "\" is disabled");
  const auto owner_role = server::parse_role(user->role).value_or(server::Role::Viewer);
  const auto role = options.role.empty() ? owner_role : *server::parse_role(options.role);
  if (static_cast<int>(role) > static_cast<int>(owner_role))
    throw UsageError("--role: \"" + options.user + "\" is a " + user->role + ", the token's role cannot be higher");
  const auto token = security::new_opaque_token(server::kApiTokenPrefix);
  const repo::NewApiToken row{user->id, options.name, std::string(server::to_string(role)), std::nullopt, ttl_seconds,
                              security::hex(security::token_hash(token)), "cli"};
  const auto created = boost::json::parse(co_await repo::add_api_token(*conn, row)).as_object();
  const repo::AuditEntry entry{"cli", "api_token.create", options.name, true, "",
                               fmt::format(R"({{"id":{},"user_id":{},"role":"{}","ttl_seconds":{}}})",
                                           created.at("id").as_int64(), user->id, server::to_string(role),
                                           ttl_seconds)};
  co_await repo::audit(*conn, entry);
  co_return token + "\n" + std::string(created.at("expires_at").as_string());
}

}  // namespace

Subcommand add_api_token(CLI::App& root) {
  auto* app = root.add_subcommand("api-token", "Manage API tokens (for scripts and Grafana)");
  app->require_subcommand(1);
  auto* create = app->add_subcommand("create", "Print a new API token for a user");
  auto options = std::make_shared<ApiTokenOptions>();
  create->add_option("NAME", options->name, "what the token is for")->required()->check([](const std::string& name) {
    return name.empty() || name.size() > 100 ? std::string("a token name has 1 to 100 characters") : std::string();
  });
  create->add_option("--user", options->user, "the user the token acts for")->required();
  create->add_option("--role", options->role, "admin, user or viewer; at most the user's (default: the user's)")
      ->check(CLI::IsMember({"admin", "user", "viewer"}));
  create->add_option("--ttl", options->ttl, "how long the token stays valid")->capture_default_str();
  create->add_option("--config", options->config_path, "server configuration file")->capture_default_str();
  return {app, [options]() {
            const auto ttl = parse_duration(options->ttl);
            const auto seconds = ttl ? std::chrono::duration_cast<std::chrono::seconds>(*ttl).count() : 0;
            if (!ttl || seconds < 60 || seconds > 3650LL * 86'400)
              throw UsageError("--ttl: \"" + options->ttl + "\" is not a duration between 1m and 3650d");
            auto config = load_server_config(options->config_path);
            if (config.database_url.empty())
              throw config::ConfigError(config.file, 0, "database.url", "is empty: tokens are stored in the database");
            const auto result = pga::run_async<std::string>([&](boost::asio::any_io_executor ex) {
              return create_token(ex, config.database_url, *options, seconds);
            });
            const auto newline = result.find('\n');
            fmt::print("{}\n", result.substr(0, newline));
            std::fflush(stdout);
            fmt::print(stderr, "API token \"{}\" for \"{}\" created, valid until {}; it is not shown again.\n",
                       options->name, options->user, result.substr(newline + 1));
            return kExitOk;
          }};
}

}  // namespace pga::cli
