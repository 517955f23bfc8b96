// `pganalytics token create [--config FILE] [--ttl 1h] [--uses 1]`: a new enrolment token, alone
// on stdout; the CA fingerprint and the `register` line to run go to stderr.
#include <fmt/format.h>

#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/run_async.hpp"
#include "pganalytics/common/server_config.hpp"
#include "pganalytics/security/random.hpp"
#include "pganalytics/server/key_material.hpp"
#include "pganalytics/server/repository.hpp"

namespace pga::cli {
namespace {

struct TokenOptions {
  std::string config_path = "/etc/pganalytics/server.toml";
  std::string ttl = "1h";
  int uses = 1;
};

boost::asio::awaitable<std::string> create_token(boost::asio::any_io_executor ex, ServerConfig config,
                                                 std::int64_t ttl_seconds, int uses) {
  auto conn = co_await db::AsyncConnection::connect(ex, config.database_url, std::chrono::seconds(10));
  const auto master_key = server::load_master_key(config.data_dir);
  auto material = co_await server::load_or_create_key_material(*conn, master_key);
  const auto token = security::new_opaque_token("pga_enr_");
  const auto token_hash = security::hex(security::token_hash(token));
  co_await server::repo::create_enrollment_token(*conn, token_hash, ttl_seconds, uses, "cli");
  server::repo::AuditEntry entry{"cli", "enrollment_token.create", "", true, "",
                                 fmt::format(R"({{"ttl_seconds":{},"uses":{}}})", ttl_seconds, uses)};
  co_await server::repo::audit(*conn, entry);
  co_return token + "\n" + security::certificate_fingerprint_sha256(material.ca->certificate_pem());
}

}  // namespace

Subcommand add_token(CLI::App& root) {
  auto* app = root.add_subcommand("token", "Manage enrolment tokens");
  app->require_subcommand(1);
  auto* create = app->add_subcommand("create", "Print a new enrolment token for `pganalytics register`");
  auto options = std::make_shared<TokenOptions>();
  create->add_option("--config", options->config_path, "server configuration file")->capture_default_str();
  create->add_option("--ttl", options->ttl, "how long the token stays valid")->capture_default_str();
  create->add_option("--uses", options->uses, "how many enrolments it allows")
      ->check(CLI::Range(1, 10000))
      ->capture_default_str();
  return {app, [options]() {
            auto ttl = parse_duration(options->ttl);
            if (!ttl || ttl->count() < 60'000 || ttl->count() > 7LL * 86'400'000)
              throw UsageError("--ttl: \"" + options->ttl + "\" is not a duration between 1m and 7d");
            auto config = load_server_config(options->config_path);
            if (config.database_url.empty())
              throw config::ConfigError(config.file, 0, "database.url", "is empty: the token is stored in the database");
            auto result = pga::run_async<std::string>([&](boost::asio::any_io_executor ex) {
              return create_token(ex, config, ttl->count() / 1000, options->uses);
            });
            auto newline = result.find('\n');
            auto token = result.substr(0, newline);
            auto fingerprint = result.substr(newline + 1);
            auto port = config.listen.substr(config.listen.rfind(':') + 1);
            fmt::print("{}\n", token);
            std::fflush(stdout);
            fmt::print(stderr,
                       "Enrolment token valid for {} and {} use(s).\nServer CA fingerprint: {}\n"
                       "On the database host, run:\n  pganalytics register --server https://{}:{} --token {} "
                       "--ca-fingerprint {}\n",
                       format_duration(*ttl), options->uses, fingerprint, config.hostnames.front(), port, token,
                       fingerprint);
            return kExitOk;
          }};
}

}  // namespace pga::cli
