// The agent's configuration (agent.toml): its declared key table and the typed result.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "pganalytics/common/config_schema.hpp"

namespace pga {

struct InstanceConfig {
  std::string name;
  std::string conninfo;
};

struct AgentConfig {
  std::string file;
  std::string state_dir;
  std::string log_level;
  std::string metrics_listen;  // empty: no metrics listener
  std::string server_url;
  Duration collect_interval;
  std::uint64_t spool_max_bytes;
  std::vector<InstanceConfig> instances;
};

const config::Schema& agent_schema();
AgentConfig to_agent_config(const config::Document& doc);
AgentConfig load_agent_config(const std::string& path);  // throws config::ConfigError

}  // namespace pga
