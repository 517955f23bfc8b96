// `pganalytics server [--config FILE]`: the central server.
#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/log.hpp"
#include "pganalytics/server/server_app.hpp"

namespace pga::cli {

Subcommand add_server(CLI::App& root) {
  auto* app = root.add_subcommand("server", "Run the central server");
  auto path = std::make_shared<std::string>("/etc/pganalytics/server.toml");
  app->add_option("--config", *path, "server configuration file")->capture_default_str();
  return {app, [path]() {
            auto config = load_server_config(*path);
            log::set_level(*log::parse_level(config.log_level));
            return server::run_server(config);
          }};
}

}  // namespace pga::cli
