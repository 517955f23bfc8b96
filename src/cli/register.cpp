// `pganalytics register --server URL --token TOKEN [--name NAME] [--ca-file FILE |
// --ca-fingerprint sha256:HEX] [--config FILE] [--force]`: enrols this host.
#include <fmt/format.h>

#include <filesystem>

#include "pganalytics/agent/enrolment.hpp"
#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/run_async.hpp"
#include "pganalytics/common/agent_config.hpp"
#include "pganalytics/common/host.hpp"

namespace pga::cli {
namespace {

struct RegisterOptions {
  std::string server_url;
  std::string token;
  std::string name;
  std::string ca_file;
  std::string ca_fingerprint;
  std::string config_path = "/etc/pganalytics/agent.toml";
  bool config_given = false;
  bool force = false;
};

std::string state_dir_of(const RegisterOptions& options) {
  if (!options.config_given && !std::filesystem::exists(options.config_path))
    return to_agent_config(config::load_string("", "<defaults>", agent_schema())).state_dir;
  return load_agent_config(options.config_path).state_dir;
}

int run_register(const RegisterOptions& options) {
  if (options.ca_file.empty() == options.ca_fingerprint.empty())
    throw UsageError("--ca-file or --ca-fingerprint: give exactly one, so the server can be verified");
  try {
    agent::parse_server_url(options.server_url);
  } catch (const std::invalid_argument& e) {
    throw UsageError(std::string("--server: ") + e.what());
  }
  agent::EnrolmentRequest request;
  request.server_url = options.server_url;
  request.token = options.token;
  request.hostname = local_hostname();
  request.name = options.name.empty() ? request.hostname : options.name;
  request.ca_fingerprint = options.ca_fingerprint;
  if (!options.ca_file.empty()) request.ca_pem = agent::read_text_file(options.ca_file);
  request.files.dir = state_dir_of(options);
  if (!options.force && agent::load_credentials(request.files))
    throw std::runtime_error("this host is already enrolled (" + request.files.credentials().string() +
                             "); use --force to enrol again");
  auto credentials = pga::run_async<agent::Credentials>(
      [&](boost::asio::any_io_executor ex) { return agent::enrol(ex, request); });
  fmt::print("enrolled as collector {} with {}; credentials in {}\n", credentials.collector_id, options.server_url,
             request.files.dir.string());
  return kExitOk;
}

}  // namespace

Subcommand add_register(CLI::App& root) {
  auto* app = root.add_subcommand("register", "Enrol this host with a server");
  auto options = std::make_shared<RegisterOptions>();
  app->add_option("--server", options->server_url, "the server's https:// URL")->required();
  app->add_option("--token", options->token, "enrolment token from `pganalytics token create`")->required();
  app->add_option("--name", options->name, "name of this collector (default: the host name)");
  app->add_option("--ca-file", options->ca_file, "the server's CA certificate (PEM)");
  app->add_option("--ca-fingerprint", options->ca_fingerprint, "sha256:HEX of the server's CA certificate");
  app->add_option("--config", options->config_path, "agent configuration, for [agent] state_dir")
      ->each([options](const std::string&) { options->config_given = true; });
  app->add_flag("--force", options->force, "replace an existing enrolment");
  return {app, [options]() { return run_register(*options); }};
}

}  // namespace pga::cli
