// What every subcommand shares: its registration with CLI11, the error that means exit 2, and
// the exit-status convention (0 ok, 2 bad usage or configuration, 1 anything else).
#pragma once
#include <CLI/CLI.hpp>

#include <functional>
#include <stdexcept>
#include <string>

namespace pga::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

// Bad flags or flag combinations the parser cannot see; the message names the flag.
class UsageError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Subcommand {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

// Each subcommand file provides one of these.
Subcommand add_migrate(CLI::App& root);
Subcommand add_check_config(CLI::App& root);
Subcommand add_server(CLI::App& root);
Subcommand add_register(CLI::App& root);
Subcommand add_agent(CLI::App& root);
Subcommand add_demo(CLI::App& root);
Subcommand add_token(CLI::App& root);
Subcommand add_user_command(CLI::App& root);
Subcommand add_api_token(CLI::App& root);

}  // namespace pga::cli
