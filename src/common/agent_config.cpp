// agent.toml: the one table of keys the agent understands, and its conversion to AgentConfig.
// conf/agent.toml mirrors this table; tests/unit/config_files_test.cpp keeps them in step.
#include "pganalytics/common/agent_config.hpp"

#include <array>
#include <set>

namespace pga {
namespace {

using config::KeySpec;
using config::KeyType;
constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMiB = 1 << 20;

constexpr std::array kAgentKeys{
    KeySpec{"agent", "state_dir", KeyType::String, R"("/var/lib/pganalytics/agent")",
            "credentials, certificates and the spool live here"},
    KeySpec{"agent", "log_level", KeyType::Choice, R"("info")", "least severe level logged: debug, info, warn or error",
            0, INT64_MAX, "debug|info|warn|error"},
    KeySpec{"agent", "metrics_listen", KeyType::ListenAddress, R"("")",
            "HOST:PORT of a plain-HTTP Prometheus /metrics listener for the agent; empty: none"},
    KeySpec{"server", "url", KeyType::HttpsUrl, R"("https://pganalytics.example.com:8443")",
            "the pganalytics server this agent pushes to"},
    KeySpec{"collect", "interval", KeyType::Duration, R"("60s")",
            "default interval for every collector; values down to 1s are accepted", kSecond},
    KeySpec{"spool", "max_bytes", KeyType::Size, R"("512MiB")",
            "disk the spool may use; when full the oldest batches are dropped and reported", kMiB},
    KeySpec{"instance", "name", KeyType::String, "", "a short unique name for this PostgreSQL instance"},
    KeySpec{"instance", "conninfo", KeyType::String, "", "libpq conninfo or URL the agent connects with"},
    KeySpec{"instance", "max_connections", KeyType::Integer, "4",
            "connections the agent may hold to this instance: its main session, the rest kept open per database read", 2, 32},
    KeySpec{"instance", "max_objects_per_database", KeyType::Integer, "1000",
            "tables and indexes read per database and cycle, biggest first; the 10 tables with the oldest "
            "relfrozenxid always added",
            1, 1000000},
    KeySpec{"instance", "statements_top_n", KeyType::Integer, "500",
            "pg_stat_statements entries sent per cycle: the N whose calls and the N whose time grew most; 0: all", 0, 1000000},
    KeySpec{"instance", "log_path", KeyType::String, R"("")",
            "the server log file or directory to follow; empty: found from logging_collector, log_directory and log_filename"},
    KeySpec{"instance", "log_rows_per_event", KeyType::Integer, "1000",
            "log events kept per event type and cycle; beyond, they are folded into counted rows", 1, 1000000},
};

}  // namespace

const config::Schema& agent_schema() {
  static const config::Schema schema{"agent", kAgentKeys, {"instance"}};
  return schema;
}

AgentConfig to_agent_config(const config::Document& doc) {
  using config::get;
  AgentConfig out{
      .file = doc.file(),
      .state_dir = get<std::string>(doc.section("agent"), "state_dir"),
      .log_level = get<std::string>(doc.section("agent"), "log_level"),
      .metrics_listen = get<std::string>(doc.section("agent"), "metrics_listen"),
      .server_url = get<std::string>(doc.section("server"), "url"),
      .collect_interval = get<Duration>(doc.section("collect"), "interval"),
      .spool_max_bytes = get<std::uint64_t>(doc.section("spool"), "max_bytes"),
      .instances = {},
  };
  std::set<std::string> seen;
  const auto& instances = doc.array("instance");
  for (std::size_t i = 0; i < instances.size(); ++i) {
    const auto& instance = instances[i];
    auto& added = out.instances.emplace_back(
        InstanceConfig{get<std::string>(instance, "name"), get<std::string>(instance, "conninfo"),
                       get<std::int64_t>(instance, "max_connections"),
                       get<std::int64_t>(instance, "max_objects_per_database"),
                       get<std::int64_t>(instance, "statements_top_n"), get<std::string>(instance, "log_path"),
                       get<std::int64_t>(instance, "log_rows_per_event")});
    if (added.name.empty() || !seen.insert(added.name).second)
      throw config::ConfigError(doc.file(), doc.array_line("instance", i), "instance.name",
                                "\"" + added.name + "\": every [[instance]] needs a distinct, non-empty name");
  }
  return out;
}

AgentConfig load_agent_config(const std::string& path) { return to_agent_config(config::load(path, agent_schema())); }

}  // namespace pga
