// The per-database object families without a database: which columns each PostgreSQL version's
// SQL selects, the connection budget, and how an instance's conninfo is pointed at another database.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <map>
#include <regex>
#include <stdexcept>
#include <string>

#include "pganalytics/agent/collectors/database_sessions.hpp"
#include "pganalytics/agent/collectors/pg_objects.hpp"
#include "pganalytics/metrics/registry.hpp"

using namespace pga::agent::collectors;

namespace {

// True when `sql` names the column `name` as a whole word (t.name, name AS ..., AS name).
bool mentions(const std::string& sql, const std::string& name) {
  return std::regex_search(sql, std::regex("\\b" + name + "\\b"));
}

// Every registry column of `family` must be named by the SQL of the newest version.
void check_covers_registry(const std::string& family, const std::string& sql) {
  const auto* spec = pga::metrics::find_family(family);
  REQUIRE(spec != nullptr);
  for (const auto& column : spec->columns) {
    INFO(family, ": ", column.name);
    CHECK(mentions(sql, std::string(column.name)));
  }
}

// What libpq itself reads from a conninfo string: keyword -> value.
std::map<std::string, std::string> parsed(const std::string& conninfo) {
  char* error = nullptr;
  PQconninfoOption* options = PQconninfoParse(conninfo.c_str(), &error);
  REQUIRE_MESSAGE(options != nullptr, (error ? error : ""));
  std::map<std::string, std::string> out;
  for (auto* option = options; option->keyword; ++option)
    if (option->val) out[option->keyword] = option->val;
  PQconninfoFree(options);
  return out;
}

}  // namespace

TEST_CASE("pg_stats_table selects only the columns each version has") {
  const auto v12 = pg_stats_table_sql(120000);
  const auto v13 = pg_stats_table_sql(130000);
  const auto v16 = pg_stats_table_sql(160000);
  const auto v17 = pg_stats_table_sql(170000);
  CHECK_FALSE(mentions(v12, "n_ins_since_vacuum"));
  CHECK(mentions(v13, "n_ins_since_vacuum"));
  for (const auto* column : {"last_seq_scan", "last_idx_scan", "n_tup_newpage_upd"}) {
    INFO(column);
    CHECK_FALSE(mentions(v12, column));
    CHECK_FALSE(mentions(v13, column));
    CHECK(mentions(v16, column));
    CHECK(mentions(v17, column));
  }
  // Sizes come from their own statement, run only for the tables whose size may have changed.
  check_covers_registry("pg_stats_table", v17 + pg_stats_table_sizes_sql());
  CHECK_FALSE(mentions(v17, "pg_table_size"));
  const auto sizes = pg_stats_table_sizes_sql();
  CHECK(mentions(sizes, "pg_table_size"));
  CHECK(mentions(sizes, "pg_indexes_size"));
  CHECK(sizes.find("s.table_size + s.indexes_size AS total_size_bytes") != std::string::npos);  // = pg_total_relation_size
  CHECK(sizes.find("unnest($1::oid[])") != std::string::npos);
  // The cap is a parameter, and the wraparound tables are added to it.
  CHECK(v12.find("LIMIT $1") != std::string::npos);
  CHECK(v12.find("LIMIT " + std::to_string(kWraparoundTablesPerDatabase)) != std::string::npos);
  // The size fingerprint's own columns are named so that they are never sent.
  for (const auto* column : {"_heap_file", "_toast_file", "_indexes"}) CHECK(mentions(v12, column));
}

TEST_CASE("pg_stats_index selects last_idx_scan from 16 on") {
  CHECK_FALSE(mentions(pg_stats_index_sql(120000), "last_idx_scan"));
  CHECK_FALSE(mentions(pg_stats_index_sql(130000), "last_idx_scan"));
  CHECK(mentions(pg_stats_index_sql(160000), "last_idx_scan"));
  check_covers_registry("pg_stats_index", pg_stats_index_sql(170000) + pg_stats_index_sizes_sql());
  CHECK_FALSE(mentions(pg_stats_index_sql(170000), "pg_relation_size"));
  CHECK(pg_stats_index_sql(120000).find("LIMIT $1") != std::string::npos);
}

TEST_CASE("per-database connections leave room for the main session, but at least one") {
  CHECK(database_connection_budget(1) == 1);
  CHECK(database_connection_budget(2) == 1);
  CHECK(database_connection_budget(5) == 4);
}

TEST_CASE("a keyword=value conninfo is pointed at another database, the rest kept") {
  const auto rebuilt = conninfo_with_dbname("host=/var/run/postgresql port=5433 dbname=postgres user=pganalytics "
                                            "password='it\\'s secret' sslmode=disable",
                                            "app");
  const auto options = parsed(rebuilt);
  CHECK(options.at("dbname") == "app");
  CHECK(options.at("host") == "/var/run/postgresql");
  CHECK(options.at("port") == "5433");
  CHECK(options.at("user") == "pganalytics");
  CHECK(options.at("sslmode") == "disable");
  CHECK(options.at("password") == "it's secret");
  CHECK(options.size() == 6);
}

TEST_CASE("a postgresql:// URI is pointed at another database, the rest kept") {
  const auto options = parsed(conninfo_with_dbname(
      "postgresql://agent:s%40cret@db.example.com:6543/postgres?sslmode=require&connect_timeout=5", "sales"));
  CHECK(options.at("dbname") == "sales");
  CHECK(options.at("host") == "db.example.com");
  CHECK(options.at("port") == "6543");
  CHECK(options.at("user") == "agent");
  CHECK(options.at("password") == "s@cret");
  CHECK(options.at("sslmode") == "require");
  CHECK(options.at("connect_timeout") == "5");
  // A URI without a database gets one too.
  CHECK(parsed(conninfo_with_dbname("postgresql://127.0.0.1:5432", "x")).at("dbname") == "x");
}

TEST_CASE("database names with spaces, quotes, backslashes or '=' stay one literal name") {
  for (const std::string name : {"my db", "o'brien", "say \"hi\"", "back\\slash", "host=evil port=1", "' OR '1"}) {
    INFO(name);
    const auto options = parsed(conninfo_with_dbname("host=localhost dbname=postgres", name));
    CHECK(options.at("dbname") == name);
    CHECK(options.at("host") == "localhost");
    CHECK(options.count("port") == 0);
  }
}

TEST_CASE("an unparsable conninfo is refused without echoing its password") {
  try {
    conninfo_with_dbname("host=localhost password=hunter2 nonsense", "x");
    FAIL("expected std::invalid_argument");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("hunter2") == std::string::npos);
  }
  CHECK_THROWS_AS(conninfo_with_dbname("postgresql://[::1", "x"), std::invalid_argument);
}
