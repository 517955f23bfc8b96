// The declared-table configuration reader: defaults, strict values, and errors that name the
// file, the line and the key.
#include <doctest/doctest.h>

#include "pganalytics/common/agent_config.hpp"
#include "pganalytics/common/server_config.hpp"

using namespace pga;

namespace {

config::ConfigError server_error(std::string_view text) {
  try {
    to_server_config(config::load_string(text, "s.toml", server_schema()));
  } catch (const config::ConfigError& e) {
    return e;
  }
  FAIL("expected a configuration error for: " << text);
  return config::ConfigError("", 0, "", "");
}

config::ConfigError agent_error(std::string_view text) {
  try {
    to_agent_config(config::load_string(text, "a.toml", agent_schema()));
  } catch (const config::ConfigError& e) {
    return e;
  }
  FAIL("expected a configuration error for: " << text);
  return config::ConfigError("", 0, "", "");
}

}  // namespace

TEST_CASE("an empty server file gets every default") {
  auto c = to_server_config(config::load_string("", "s.toml", server_schema()));
  CHECK(c.listen == "0.0.0.0:8443");
  CHECK(c.hostnames == std::vector<std::string>{"localhost"});
  CHECK(c.retention_raw == Duration{7LL * 86'400'000});
  CHECK(c.retention_disk_usage == Duration{30LL * 86'400'000});
  CHECK(c.access_token_ttl == Duration{15 * 60'000});
  CHECK(c.database_url.empty());
}

TEST_CASE("server values are read and typed") {
  auto c = to_server_config(config::load_string(
      "[server]\nlisten = \"[::1]:9443\"\nhostnames = [\"db.example\", \"10.0.0.1\"]\n"
      "[retention]\nraw = \"2d\"\n",
      "s.toml", server_schema()));
  CHECK(c.listen == "[::1]:9443");
  CHECK(c.hostnames.size() == 2);
  CHECK(c.retention_raw == Duration{2LL * 86'400'000});
}

TEST_CASE("server errors name the line and the key") {
  auto e = server_error("[server]\n\nbogus = 1\n");
  CHECK(e.line() == 3);
  CHECK(e.key() == "server.bogus");
  CHECK(std::string(e.what()).starts_with("s.toml:3: server.bogus: unknown key"));

  e = server_error("[retention]\nraw = \"1 week\"\n");
  CHECK(e.line() == 2);
  CHECK(e.key() == "retention.raw");

  e = server_error("[retention]\nraw = \"1h\"\n");  // below the one-day minimum
  CHECK(e.key() == "retention.raw");

  e = server_error("[server]\nlisten = \"8443\"\n");
  CHECK(e.key() == "server.listen");

  e = server_error("[server]\nhostnames = \"localhost\"\n");
  CHECK(e.key() == "server.hostnames");

  e = server_error("[server]\nlog_level = \"verbose\"\n");
  CHECK(e.key() == "server.log_level");

  e = server_error("listen = \"0.0.0.0:1\"\n");
  CHECK(e.key() == "listen");

  e = server_error("[server\n");
  CHECK(e.line() == 1);
  CHECK(std::string(e.what()).find("TOML syntax error") != std::string::npos);
}

TEST_CASE("agent instances are read, named and required to be distinct") {
  auto c = to_agent_config(config::load_string(
      "[collect]\ninterval = \"1s\"\n[[instance]]\nname = \"a\"\nconninfo = \"host=x\"\n"
      "[[instance]]\nname = \"b\"\nconninfo = \"host=y\"\n",
      "a.toml", agent_schema()));
  CHECK(c.collect_interval == Duration{1000});
  REQUIRE(c.instances.size() == 2);
  CHECK(c.instances[1].name == "b");
  CHECK(c.instances[1].conninfo == "host=y");
  CHECK(c.spool_max_bytes == 512ULL << 20);

  auto duplicate =
      agent_error("[[instance]]\nname = \"a\"\nconninfo = \"x\"\n[[instance]]\nname = \"a\"\nconninfo = \"y\"\n");
  CHECK(duplicate.key() == "instance.name");
  CHECK(duplicate.line() == 4);
  CHECK(agent_error("[[instance]]\nname = \"a\"\n").key() == "instance.conninfo");
  CHECK(agent_error("[collect]\ninterval = \"999ms\"\n").key() == "collect.interval");
  CHECK(agent_error("[spool]\nmax_bytes = \"12 MiB\"\n").key() == "spool.max_bytes");
  CHECK(agent_error("[server]\nurl = \"http://plain:80\"\n").key() == "server.url");
  CHECK(agent_error("[instance]\nname = \"a\"\n").key() == "instance");
}
