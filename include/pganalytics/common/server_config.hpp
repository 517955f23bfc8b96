// The server's configuration (server.toml): its declared key table and the typed result.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

#include "pganalytics/common/config_schema.hpp"

namespace pga {

// Sign-in attempts allowed per window, counted in the database before a password is checked.
struct LoginBudgets {
  Duration window{std::chrono::minutes(15)};
  std::int64_t per_name = 5;
  std::int64_t per_address = 30;
  std::int64_t global = 500;
};

// [limits]: what one client, anonymous or an enrolled agent, may take of the server.
struct ServerLimitsConfig {
  std::size_t connections = 0;  // 0: derived from the open-file limit
  std::size_t connections_per_address = 256;
  std::size_t inflating_bytes = 256 * 1024 * 1024;
  std::size_t batches_per_collector = 16;
  std::size_t instances_per_collector = 256;
  std::size_t databases_per_collector = 20'000;
  std::size_t objects_per_sample = 100'000;
  std::size_t text_bytes = 1024 * 1024;
};

struct ServerConfig {
  std::string file;
  std::string listen;
  std::string data_dir;
  std::string tls_cert;
  std::string tls_key;
  std::vector<std::string> hostnames;
  std::string database_url;
  Duration retention_raw;
  Duration retention_disk_usage;
  Duration retention_rollup_1h;
  Duration retention_audit;
  Duration access_token_ttl;
  Duration refresh_token_ttl;
  Duration agent_certificate_ttl;
  Duration refresh_grace;
  LoginBudgets login;
  std::int64_t password_hash_threads = 1;
  std::int64_t password_hash_queue = 16;
  std::string log_level;
  ServerLimitsConfig limits;
};

const config::Schema& server_schema();
ServerConfig to_server_config(const config::Document& doc);
ServerConfig load_server_config(const std::string& path);  // throws config::ConfigError

}  // namespace pga
