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
  std::int64_t max_connections = 4;
  std::int64_t max_objects_per_database = 1000;
  std::int64_t statements_top_n = 500;
  std::string log_path;  // empty: located through the server's logging settings
  std::int64_t log_rows_per_event = 1000;
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
