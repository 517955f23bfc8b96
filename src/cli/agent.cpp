// `pganalytics agent [--config FILE]`: the agent on a database host.
#include "pganalytics/agent/agent_app.hpp"
#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/log.hpp"

namespace pga::cli {

Subcommand add_agent(CLI::App& root) {
  auto* app = root.add_subcommand("agent", "Run the agent on a database host");
  auto path = std::make_shared<std::string>("/etc/pganalytics/agent.toml");
  app->add_option("--config", *path, "agent configuration file")->capture_default_str();
  return {app, [path]() {
            auto config = load_agent_config(*path);
            log::set_level(*log::parse_level(config.log_level));
            return agent::run_agent(config);
          }};
}

}  // namespace pga::cli
