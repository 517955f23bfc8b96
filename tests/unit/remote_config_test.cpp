// The per-family settings an admin sets on the server and the agent applies: what is accepted,
// what is refused with a message naming the entry, and the agent's fallbacks.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "pganalytics/agent/remote_config.hpp"

using namespace std::chrono_literals;

TEST_CASE("family settings: intervals and enabled flags, with defaults for families not named") {
  auto config = pga::agent::parse_remote_config(
      R"({"config_version": 7, "collectors": {"sysstat": {"interval": "3s"}, "disk_usage": {"enabled": false}}})");
  CHECK(config.version == 7);
  CHECK(config.interval_for("sysstat", 60s) == 3s);
  CHECK(config.interval_for("pg_stats_table", 60s) == 60s);
  CHECK(config.enabled("sysstat"));
  CHECK_FALSE(config.enabled("disk_usage"));
  CHECK(config.enabled("pg_locks"));
}

TEST_CASE("family settings: a bad entry is refused with its name") {
  auto refused = [](const char* json) {
    try {
      pga::metrics::parse_family_settings(boost::json::parse(json));
    } catch (const std::runtime_error& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  CHECK(refused(R"({"sysstat": {"interval": "500ms"}})") == "collectors.sysstat.interval must be a duration of at least 1s, like \"30s\"");
  CHECK(refused(R"({"sysstat": {"interval": 5}})").find("collectors.sysstat.interval") == 0);
  CHECK(refused(R"({"sysstat": {"enabled": "no"}})") == "collectors.sysstat.enabled must be true or false");
  CHECK(refused(R"({"sysstat": {"intervall": "5s"}})").find("unknown setting \"intervall\"") != std::string::npos);
  CHECK(refused(R"({"sysstat": 5})") == "collectors.sysstat must be an object");
  CHECK(refused(R"([1])") == "\"collectors\" must be an object");
}

TEST_CASE("family settings: written back as the server stores them") {
  auto settings = pga::metrics::parse_family_settings(boost::json::parse(R"({"sysstat": {"interval": "90s"}})"));
  CHECK(boost::json::serialize(pga::metrics::to_json(settings)) == R"({"sysstat":{"interval":"90s","enabled":true}})");
}
