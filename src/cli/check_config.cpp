// `pganalytics check-config --config FILE`: validates a server or an agent configuration.
// The kind is told by its sections: [agent], [collect], [spool] or [[instance]] mean an agent.
#include <fmt/format.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/agent_config.hpp"
#include "pganalytics/common/server_config.hpp"

namespace pga::cli {
namespace {

bool looks_like_agent_config(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  static const std::regex agent_section(R"((^|\n)\s*\[\[?\s*(agent|collect|spool|instance)\s*\]?\])");
  return std::regex_search(text.str(), agent_section);
}

}  // namespace

Subcommand add_check_config(CLI::App& root) {
  auto* app = root.add_subcommand("check-config", "Validate a server or agent configuration file");
  auto path = std::make_shared<std::string>();
  app->add_option("--config", *path, "the TOML file to check")->required();
  return {app, [path]() {
            if (looks_like_agent_config(*path)) {
              auto config = load_agent_config(*path);
              fmt::print("{}: valid agent configuration ({} instance(s))\n", *path, config.instances.size());
            } else {
              load_server_config(*path);
              fmt::print("{}: valid server configuration\n", *path);
            }
            return kExitOk;
          }};
}

}  // namespace pga::cli
