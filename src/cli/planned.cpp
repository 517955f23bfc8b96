// Subcommands of the contract that this build does not provide yet: listed in --help so users
// see the whole interface, and refusing to run with a clear message and exit status 1.
#include <fmt/format.h>

#include "pganalytics/cli/command.hpp"

namespace pga::cli {

Subcommand add_planned(CLI::App& root, const std::string& name, const std::string& description) {
  auto* app = root.add_subcommand(name, description + " (not available in this build yet)");
  app->allow_extras();
  return {app, [name]() {
            fmt::print(stderr, "pganalytics {}: not available in this build yet\n", name);
            return kExitFailure;
          }};
}

}  // namespace pga::cli
