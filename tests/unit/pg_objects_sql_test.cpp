// The per-database object families without a database: which statistics functions each PostgreSQL
// version reads, the columns sent, the connection budget, and how a conninfo is pointed at another database.
#include <doctest/doctest.h>
#include <libpq-fe.h>

#include <algorithm>
#include <map>
#include <regex>
#include <stdexcept>
#include <string>

#include "pganalytics/agent/collectors/database_sessions.hpp"
#include "pganalytics/agent/collectors/object_families.hpp"
#include "pganalytics/agent/collectors/pg_objects.hpp"
#include "pganalytics/agent/collectors/relation_stats.hpp"
#include "pganalytics/metrics/registry.hpp"

using namespace pga::agent::collectors;

namespace {

// True when `sql` names the column `name` as a whole word (t.name, name AS ..., AS name).
bool mentions(const std::string& sql, const std::string& name) {
  return std::regex_search(sql, std::regex("\\b" + name + "\\b"));
}

// The columns a family's rows are sent with, sizes included, are exactly the registry's.
void check_is_registry(const std::string& family, std::vector<std::string> sent) {
  const auto* spec = pga::metrics::find_family(family);
  REQUIRE(spec != nullptr);
  std::vector<std::string> registry;
  for (const auto& column : spec->columns) registry.emplace_back(column.name);
  std::sort(sent.begin(), sent.end());
  std::sort(registry.begin(), registry.end());
  CHECK(sent == registry);
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

TEST_CASE("relation statistics read only the functions each version has") {
  const auto v12 = relation_stats_sql(120000);
  const auto v13 = relation_stats_sql(130000);
  const auto v16 = relation_stats_sql(160000);
  CHECK_FALSE(mentions(v12, "pg_stat_get_ins_since_vacuum"));
  CHECK(mentions(v13, "pg_stat_get_ins_since_vacuum"));
  for (const auto* function : {"pg_stat_get_lastscan", "pg_stat_get_tuples_newpage_updated"}) {
    INFO(function);
    CHECK_FALSE(mentions(v13, function));
    CHECK(mentions(v16, function));
  }
  // Tables ($1) and the other relations ($3), each with its known hashes, changed rows only.
  for (const auto* parameter : {"unnest($1::oid[], $2::bigint[])", "unnest($3::oid[], $4::bigint[])"})
    CHECK(v16.find(parameter) != std::string::npos);
  CHECK(v16.find("WHERE v.hash IS DISTINCT FROM v.known") != std::string::npos);
  // Every figure read enters the hash, timestamps included.
  for (const auto* figure : {"r.blocks_hit", "r.filenode", "r.lastscan", "r.last_autovacuum_time", "r.live_tuples"})
    CHECK(v16.find(figure) != std::string::npos);
}

TEST_CASE("relfrozenxid age is counted as age() counts it, across xid wraparound") {
  CHECK(xid_age(100, 150) == 50);
  CHECK(xid_age(4294967290u, 10) == 16);  // the next xid wrapped past 2^32
  CHECK(xid_age(2, 150) == INT32_MAX);    // FrozenTransactionId: infinitely old
}

TEST_CASE("pg_stats_table and pg_stats_index send the registry's columns") {
  auto tables = pg_stats_table_columns();
  for (const auto* size : {"table_size_bytes", "indexes_size_bytes", "total_size_bytes"}) tables.emplace_back(size);
  check_is_registry("pg_stats_table", tables);
  auto indexes = pg_stats_index_columns();
  indexes.emplace_back("index_size_bytes");
  check_is_registry("pg_stats_index", indexes);
  const auto sizes = pg_stats_table_sizes_sql();
  CHECK(mentions(sizes, "pg_table_size"));
  CHECK(mentions(sizes, "pg_indexes_size"));
  CHECK(sizes.find("s.table_size + s.indexes_size AS total_size_bytes") != std::string::npos);  // = pg_total_relation_size
  CHECK(sizes.find("unnest($1::oid[])") != std::string::npos);
  CHECK(mentions(pg_stats_index_sizes_sql(), "pg_relation_size"));
}

TEST_CASE("the catalog reads take the cap as a parameter and add the wraparound tables") {
  const auto tables = pg_stats_table_catalog_sql();
  CHECK(tables.find("LIMIT $1") != std::string::npos);
  CHECK(tables.find("LIMIT " + std::to_string(kWraparoundTablesPerDatabase)) != std::string::npos);
  CHECK(pg_stats_index_catalog_sql().find("LIMIT $1") != std::string::npos);
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
