// `pganalytics server [--config FILE]`: the central server. `--print-routes` prints the route
// table with each route's declared access as JSON and exits (tests generate the access matrix
// from it).
#include "pganalytics/cli/command.hpp"
#include <fmt/format.h>

#include "pganalytics/common/log.hpp"
#include "pganalytics/server/routes.hpp"
#include "pganalytics/server/server_app.hpp"

namespace pga::cli {

Subcommand add_server(CLI::App& root) {
  auto* app = root.add_subcommand("server", "Run the central server");
  auto path = std::make_shared<std::string>("/etc/pganalytics/server.toml");
  app->add_option("--config", *path, "server configuration file")->capture_default_str();
  auto print_routes = std::make_shared<bool>(false);
  app->add_flag("--print-routes", *print_routes, "print the routes and who may call them (JSON), then exit");
  return {app, [path, print_routes]() {
            if (*print_routes) {
              fmt::print("{}\n", server::route_table_json());
              return kExitOk;
            }
            auto config = load_server_config(*path);
            log::set_level(*log::parse_level(config.log_level));
            return server::run_server(config);
          }};
}

}  // namespace pga::cli
