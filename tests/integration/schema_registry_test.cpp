// Every family of the registry against its table in a freshly migrated database: same columns,
// same types, partitioned, registered for retention, with its rollup where the registry says so.
#include <doctest/doctest.h>

#include <map>
#include <set>

#include "pganalytics/db/migrations.hpp"
#include "pganalytics/metrics/registry.hpp"
#include "test_database.hpp"

using namespace pga;

namespace {

std::map<std::string, std::string> table_columns(db::PgConnection& conn, std::string_view table) {
  auto r = conn.exec(
      "SELECT column_name, data_type FROM information_schema.columns "
      "WHERE table_schema = 'pganalytics' AND table_name = $1",
      {std::string(table)});
  std::map<std::string, std::string> columns;
  for (int i = 0; i < r.rows(); ++i) columns.emplace(r.get(i, 0), r.get(i, 1));
  return columns;
}

db::PgConnection migrated(const std::string& name) {
  auto conn = db::PgConnection::connect(test::fresh_database(name));
  db::MigrationRunner(conn).apply([](const std::string&) {});
  return conn;
}

}  // namespace

TEST_CASE("every registry family matches its table column for column") {
  auto conn = migrated("pga_schema_registry");
  for (const auto& family : metrics::families()) {
    CAPTURE(family.name);
    CHECK(family.table == "metrics_" + std::string(family.name));
    std::map<std::string, std::string> expected{{"time", "timestamp with time zone"}};
    expected.emplace(family.scope == metrics::Scope::Instance ? "instance_id" : "server_id", "bigint");
    for (const auto& column : family.columns) expected.emplace(column.name, metrics::sql_type(column.type));
    CHECK(table_columns(conn, family.table) == expected);

    auto kind = conn.exec("SELECT relkind FROM pg_class WHERE oid = to_regclass('pganalytics.' || $1)",
                          {std::string(family.table)});
    REQUIRE(kind.rows() == 1);
    CHECK(kind.get(0, 0) == "p");
    auto retention = conn.exec("SELECT retention_class FROM pganalytics.partitioned_tables WHERE table_name = $1",
                               {std::string(family.table)});
    REQUIRE(retention.rows() == 1);
    CHECK(retention.get(0, 0) == (family.retention == metrics::Retention::Raw ? "raw" : "disk_usage"));

    auto rollup = table_columns(conn, std::string(family.table) + "_1h");
    CHECK(rollup.empty() == !family.has_hourly_rollup);
    if (family.has_hourly_rollup) {
      for (const auto& column : family.columns) {
        if (column.kind == metrics::ColumnKind::Key || column.kind == metrics::ColumnKind::Counter) {
          CAPTURE(column.name);
          CHECK(rollup.count(std::string(column.name)) == 1);
        }
      }
    }
  }
}

TEST_CASE("every metric table in the schema has a family") {
  auto conn = migrated("pga_schema_reverse");
  auto r = conn.exec(
      "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
      "WHERE n.nspname = 'pganalytics' AND c.relkind = 'p' AND c.relname LIKE 'metrics\\_%' "
      "AND c.relname NOT LIKE '%\\_1h'");
  std::set<std::string> families;
  for (const auto& f : metrics::families()) families.emplace(f.table);
  for (int i = 0; i < r.rows(); ++i) {
    CAPTURE(r.get(i, 0));
    CHECK(families.count(std::string(r.get(i, 0))) == 1);
  }
  CHECK(static_cast<std::size_t>(r.rows()) == families.size());
}
