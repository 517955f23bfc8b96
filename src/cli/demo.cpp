// `pganalytics demo [--dir DIR]`: a managed PostgreSQL, the server, an admin user and an enrolled
// agent monitoring that same PostgreSQL, all in this process on one event loop, until Ctrl-C.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <fmt/format.h>

#include <filesystem>

#include "pganalytics/agent/agent_app.hpp"
#include "pganalytics/agent/enrolment.hpp"
#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/log.hpp"
#include "pganalytics/common/run_async.hpp"
#include "pganalytics/db/managed_postgres.hpp"
#include "pganalytics/db/pg_connection.hpp"
#include "pganalytics/security/password.hpp"
#include "pganalytics/security/random.hpp"
#include "pganalytics/server/context.hpp"
#include "pganalytics/server/repository.hpp"
#include "pganalytics/server/server_app.hpp"

namespace pga::cli {
namespace asio = boost::asio;
namespace fs = std::filesystem;
namespace {

struct DemoOptions {
  std::string dir = "pganalytics-demo";
  std::string listen = "127.0.0.1:8443";
  std::string interval = "10s";
};

void ensure_database(const std::string& admin_url, const std::string& name) {
  auto conn = db::PgConnection::connect(admin_url);
  auto exists = conn.exec("SELECT count(*) FROM pg_database WHERE datname = $1", {name});
  if (exists.get(0, 0) == "0") conn.exec_script("CREATE DATABASE " + name);
  conn.exec_script("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
}

// Ctrl-C: the agent seals what it collected and delivers it (briefly), then the server stops.
asio::awaitable<void> stop_on_signal(asio::signal_set& signals, agent::AgentRuntime& agent,
                                     server::ServerInstance& server, asio::io_context& io) {
  boost::system::error_code ignored;
  co_await signals.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
  log::info("stopping the demo");
  agent.seal_now();
  co_await agent.drain(std::chrono::seconds(3));
  co_await server.stop(std::chrono::seconds(5));
  io.stop();
}

asio::awaitable<std::string> prepare_admin_and_token(server::ServerContext& ctx, std::string password_hash) {
  auto lease = co_await ctx.pool->acquire();
  // The login printed must work on a second run in the same directory too: the demo's admin
  // gets this run's password.
  auto existing = co_await server::repo::find_user_by_name(*lease, "admin");
  if (existing) co_await server::repo::set_user_password(*lease, existing->id, password_hash);
  else co_await server::repo::create_user(*lease, "admin", password_hash, "admin");
  const auto token = security::new_opaque_token("pga_enr_");
  const auto token_hash = security::hex(security::token_hash(token));
  co_await server::repo::create_enrollment_token(*lease, token_hash, 600, 1, "demo");
  co_return token;
}

int run_demo(const DemoOptions& options) {
  const auto dir = fs::absolute(options.dir);
  fs::create_directories(dir);
  log::info("starting a managed PostgreSQL under {}", (dir / "postgresql").string());
  auto postgres = db::ManagedPostgres::start(dir / "postgresql");
  ensure_database(postgres.url("postgres"), "pganalytics");

  auto server_config = to_server_config(config::load_string("", "<demo>", server_schema()));
  server_config.listen = options.listen;
  server_config.data_dir = (dir / "server").string();
  server_config.hostnames = {"localhost", "127.0.0.1"};
  server_config.database_url = postgres.url("pganalytics");

  asio::io_context io(1);
  auto server = server::ServerInstance::start(io, server_config);
  const auto server_url = fmt::format("https://127.0.0.1:{}", server->port());

  const auto password = security::base64url_encode(security::random_bytes(12));
  const auto token = run_on(io, prepare_admin_and_token(server->context(), security::argon2id_hash_encoded(password)));

  auto agent_config = to_agent_config(config::load_string("", "<demo>", agent_schema()));
  agent_config.state_dir = (dir / "agent").string();
  agent_config.server_url = server_url;
  agent_config.collect_interval = *parse_duration(options.interval);
  agent_config.instances = {{"demo", postgres.url("postgres")}};
  agent::StateFiles files{agent_config.state_dir};
  auto credentials = agent::load_credentials(files);
  if (!credentials) {
    agent::EnrolmentRequest request{server_url, token, "demo-agent", "localhost",
                                    server->context().key_material.ca->certificate_pem(), "", files};
    credentials = run_on(io, agent::enrol(io.get_executor(), request));
  }
  auto agent = std::make_unique<agent::AgentRuntime>(io, agent_config, files, *credentials);
  agent->start();

  fmt::print(
      "\npganalytics demo is running.\n  server:   {url}\n  login:    admin / {password}\n  CA:       {ca}\n"
      "  data:     {dir}\n\nTry:\n"
      "  curl --cacert {ca} {url}/api/v1/health\n"
      "  curl --cacert {ca} {url}/metrics\n"
      "  TOKEN=$(curl -s --cacert {ca} -d '{{\"username\":\"admin\",\"password\":\"{password}\"}}' "
      "{url}/api/v1/auth/login | sed 's/.*\"access_token\":\"\\([^\"]*\\)\".*/\\1/')\n"
      "  curl --cacert {ca} -H \"Authorization: Bearer $TOKEN\" {url}/api/v1/collectors\n\n"
      "Press Ctrl-C to stop.\n",
      fmt::arg("url", server_url), fmt::arg("password", password), fmt::arg("ca", (dir / "server" / "ca.crt").string()),
      fmt::arg("dir", dir.string()));
  std::fflush(stdout);

  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::co_spawn(io, stop_on_signal(signals, *agent, *server, io), asio::detached);
  io.restart();
  io.run();
  keep_until_exit(std::move(agent));
  keep_until_exit(std::move(server));
  postgres.stop();
  return kExitOk;
}

}  // namespace

Subcommand add_demo(CLI::App& root) {
  auto* app = root.add_subcommand("demo", "Run everything on this machine: PostgreSQL, server and an agent");
  auto options = std::make_shared<DemoOptions>();
  app->add_option("--dir", options->dir, "where the demo keeps its PostgreSQL, server and agent files")
      ->capture_default_str();
  app->add_option("--listen", options->listen, "address of the demo server")->capture_default_str();
  app->add_option("--interval", options->interval, "collection interval of the demo agent")->capture_default_str();
  return {app, [options]() { return run_demo(*options); }};
}

}  // namespace pga::cli
