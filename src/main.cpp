// pganalytics: one executable for every role. This file only wires CLI11 to the subcommands in
// src/cli/ and maps failures to exit statuses (0 ok, 2 usage or configuration, 1 other).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <vector>

#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/config_schema.hpp"
#include "pganalytics/common/log.hpp"
#include "pganalytics/version.hpp"

int main(int argc, char** argv) {
  using namespace pga;
  CLI::App app{"pganalytics: PostgreSQL monitoring, agent and server in one executable", "pganalytics"};
  app.set_version_flag("--version", std::string("pganalytics ") + kVersion);
  app.require_subcommand(1);
  std::string log_format = "text";
  std::string log_level = "info";
  app.add_option("--log-format", log_format, "log lines as text or json")
      ->check(CLI::IsMember({"text", "json"}))
      ->capture_default_str();
  app.add_option("--log-level", log_level, "least severe level logged")
      ->check(CLI::IsMember({"debug", "info", "warn", "error"}))
      ->capture_default_str();

  std::vector<cli::Subcommand> commands{
      cli::add_server(app),
      cli::add_agent(app),
      cli::add_register(app),
      cli::add_migrate(app),
      cli::add_token(app),
      cli::add_user_command(app),
      cli::add_api_token(app),
      cli::add_demo(app),
      cli::add_check_config(app),
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return cli::kExitUsage;
  }

  log::configure(*log::parse_level(log_level), log_format == "json" ? log::Format::Json : log::Format::Text);
  try {
    for (auto& command : commands)
      if (command.app->parsed()) return command.run();
  } catch (const config::ConfigError& e) {
    log::error("configuration error: {}", e.what());
    return cli::kExitUsage;
  } catch (const cli::UsageError& e) {
    log::error("{}", e.what());
    return cli::kExitUsage;
  } catch (const std::exception& e) {
    log::error("{}", e.what());
    return cli::kExitFailure;
  }
  return cli::kExitFailure;
}
