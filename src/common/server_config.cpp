// server.toml: the one table of keys the server understands, and its conversion to ServerConfig.
// conf/server.toml mirrors this table; tests/unit/config_files_test.cpp keeps them in step.
#include "pganalytics/common/server_config.hpp"

#include <array>

namespace pga {
namespace {

using config::KeySpec;
using config::KeyType;
constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kDay = 86'400'000;

constexpr std::array kServerKeys{
    KeySpec{"server", "listen", KeyType::ListenAddress, R"("0.0.0.0:8443")", "address and port of the HTTPS listener"},
    KeySpec{"server", "data_dir", KeyType::String, R"("/var/lib/pganalytics/server")",
            "the server's own files: the CA, its certificate, keys; ca.crt (public) is written here"},
    KeySpec{"server", "tls_cert", KeyType::String, R"("")",
            "PEM certificate for the listener; empty: one issued by the internal CA"},
    KeySpec{"server", "tls_key", KeyType::String, R"("")", "PEM private key for tls_cert"},
    KeySpec{"server", "hostnames", KeyType::StringList, R"(["localhost"])",
            "names and IP addresses put in the internally issued server certificate"},
    KeySpec{"server", "log_level", KeyType::Choice, R"("info")", "least severe level logged: debug, info, warn or error",
            0, INT64_MAX, "debug|info|warn|error"},
    KeySpec{"database", "url", KeyType::String, R"("")",
            "libpq URL or conninfo of the storage database; empty: a managed PostgreSQL under data_dir"},
    KeySpec{"retention", "raw", KeyType::Duration, R"("7d")", "how long raw samples are kept", kDay},
    KeySpec{"retention", "disk_usage", KeyType::Duration, R"("30d")", "how long filesystem usage samples are kept",
            kDay},
    KeySpec{"retention", "rollup_1h", KeyType::Duration, R"("90d")", "how long hourly rollups are kept", kDay},
    KeySpec{"auth", "access_token_ttl", KeyType::Duration, R"("15m")", "lifetime of access tokens (JWT)",
            10 * kSecond, kDay},
    KeySpec{"auth", "refresh_token_ttl", KeyType::Duration, R"("30d")", "absolute lifetime of a refresh token family",
            60 * kSecond},
    KeySpec{"auth", "agent_certificate_ttl", KeyType::Duration, R"("30d")",
            "lifetime of agent client certificates; agents renew at 2/3 of it", 3600 * kSecond},
};

}  // namespace

const config::Schema& server_schema() {
  static const config::Schema schema{"server", kServerKeys, {}};
  return schema;
}

ServerConfig to_server_config(const config::Document& doc) {
  using config::get;
  const auto& server = doc.section("server");
  const auto& database = doc.section("database");
  const auto& retention = doc.section("retention");
  const auto& auth = doc.section("auth");
  return ServerConfig{
      .file = doc.file(),
      .listen = get<std::string>(server, "listen"),
      .data_dir = get<std::string>(server, "data_dir"),
      .tls_cert = get<std::string>(server, "tls_cert"),
      .tls_key = get<std::string>(server, "tls_key"),
      .hostnames = get<std::vector<std::string>>(server, "hostnames"),
      .database_url = get<std::string>(database, "url"),
      .retention_raw = get<Duration>(retention, "raw"),
      .retention_disk_usage = get<Duration>(retention, "disk_usage"),
      .retention_rollup_1h = get<Duration>(retention, "rollup_1h"),
      .access_token_ttl = get<Duration>(auth, "access_token_ttl"),
      .refresh_token_ttl = get<Duration>(auth, "refresh_token_ttl"),
      .agent_certificate_ttl = get<Duration>(auth, "agent_certificate_ttl"),
      .log_level = get<std::string>(server, "log_level"),
  };
}

ServerConfig load_server_config(const std::string& path) {
  return to_server_config(config::load(path, server_schema()));
}

}  // namespace pga
