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
constexpr std::int64_t kMiB = 1024 * 1024;

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
    KeySpec{"retention", "audit", KeyType::Duration, R"("365d")",
            "how long audit log rows are kept; older ones are removed and the chain restarts after them", kDay},
    KeySpec{"auth", "access_token_ttl", KeyType::Duration, R"("15m")", "lifetime of access tokens (JWT)",
            10 * kSecond, kDay},
    KeySpec{"auth", "refresh_token_ttl", KeyType::Duration, R"("30d")", "absolute lifetime of a refresh token family",
            60 * kSecond},
    KeySpec{"auth", "agent_certificate_ttl", KeyType::Duration, R"("30d")",
            "lifetime of agent client certificates; agents renew at 2/3 of it", 3600 * kSecond},
    KeySpec{"auth", "refresh_grace", KeyType::Duration, R"("30s")",
            "a refresh token presented again this soon answers the same new tokens; later it revokes the session", 0,
            300 * kSecond},
    KeySpec{"auth", "login_window", KeyType::Duration, R"("15m")", "the window of the sign-in budgets below",
            10 * kSecond, kDay},
    KeySpec{"auth", "login_attempts_per_name", KeyType::Integer, "5",
            "sign-in attempts per user name and window (a success gives its attempt back)", 1, 1'000'000},
    KeySpec{"auth", "login_attempts_per_address", KeyType::Integer, "30",
            "sign-in attempts per client address (IPv6: per /64) and window", 1, 1'000'000},
    KeySpec{"auth", "login_attempts_global", KeyType::Integer, "500",
            "sign-in attempts per window from every address together: bounds a spray across names", 1, 10'000'000},
    KeySpec{"auth", "password_hash_threads", KeyType::Integer, "1",
            "threads checking passwords (argon2id), apart from those parsing pushes", 1, 64},
    KeySpec{"auth", "password_hash_queue", KeyType::Integer, "16",
            "password checks running or waiting at once; sign-ins beyond it answer 429", 1, 10'000},
    KeySpec{"limits", "connections", KeyType::Integer, "0",
            "connections held at once; 0: the open-file limit (raised to its hard limit) less room for the "
            "database pool and files, at most 65536",
            0, 1'000'000},
    KeySpec{"limits", "connections_per_address", KeyType::Integer, "256",
            "connections one IPv4 address or IPv6 /64 may hold without a client certificate; its oldest idle "
            "one closes to admit another",
            1, 1'000'000},
    KeySpec{"limits", "inflating_bytes", KeyType::Size, R"("256MiB")",
            "inflated push bodies held at once; beyond, pushes are answered 503 with Retry-After", 64 * kMiB},
    KeySpec{"limits", "batches_per_collector", KeyType::Integer, "16",
            "batches of one collector parsed, queued or stored at once; beyond, 503 with Retry-After", 1, 1024},
    KeySpec{"limits", "instances_per_collector", KeyType::Integer, "256",
            "PostgreSQL instances one collector may report; a batch naming more is refused (400)", 1, 1'000'000},
    KeySpec{"limits", "databases_per_collector", KeyType::Integer, "20000",
            "databases, over all its instances, one collector may report; a batch naming more is refused (400)", 1,
            100'000'000},
    KeySpec{"limits", "objects_per_sample", KeyType::Integer, "100000",
            "rows (tables, indexes, statements...) in one sample of a batch; more is refused (400)", 1, 1'000'000},
    KeySpec{"limits", "text_bytes", KeyType::Size, R"("1MiB")",
            "longest text value a batch may carry; a longer one is refused (400)", 1024, 64 * kMiB},
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
  const auto& limits = doc.section("limits");
  const auto count = [&](std::string_view key) { return static_cast<std::size_t>(get<std::int64_t>(limits, key)); };
  const auto bytes = [&](std::string_view key) { return static_cast<std::size_t>(get<std::uint64_t>(limits, key)); };
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
      .retention_audit = get<Duration>(retention, "audit"),
      .access_token_ttl = get<Duration>(auth, "access_token_ttl"),
      .refresh_token_ttl = get<Duration>(auth, "refresh_token_ttl"),
      .agent_certificate_ttl = get<Duration>(auth, "agent_certificate_ttl"),
      .refresh_grace = get<Duration>(auth, "refresh_grace"),
      .login = {.window = get<Duration>(auth, "login_window"),
                .per_name = get<std::int64_t>(auth, "login_attempts_per_name"),
                .per_address = get<std::int64_t>(auth, "login_attempts_per_address"),
                .global = get<std::int64_t>(auth, "login_attempts_global")},
      .password_hash_threads = get<std::int64_t>(auth, "password_hash_threads"),
      .password_hash_queue = get<std::int64_t>(auth, "password_hash_queue"),
      .log_level = get<std::string>(server, "log_level"),
      .limits = {.connections = count("connections"),
                 .connections_per_address = count("connections_per_address"),
                 .inflating_bytes = bytes("inflating_bytes"),
                 .batches_per_collector = count("batches_per_collector"),
                 .instances_per_collector = count("instances_per_collector"),
                 .databases_per_collector = count("databases_per_collector"),
                 .objects_per_sample = count("objects_per_sample"),
                 .text_bytes = bytes("text_bytes")},
  };
}

ServerConfig load_server_config(const std::string& path) {
  return to_server_config(config::load(path, server_schema()));
}

}  // namespace pga
