// The server's configuration (server.toml): its declared key table and the typed result.
#pragma once
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
};

const config::Schema& server_schema();
ServerConfig to_server_config(const config::Document& doc);
ServerConfig load_server_config(const std::string& path);  // throws config::ConfigError

}  // namespace pga
