// pg_statements: the SQL each extension version gets (1.7 on PostgreSQL 12 to 1.11 on 17), which
// entries a cycle sends given two readings, and how query texts are bounded.
#include <doctest/doctest.h>

#include <regex>
#include <set>
#include <string>

#include "pganalytics/agent/collectors/pg_statements.hpp"
#include "pganalytics/metrics/registry.hpp"

using namespace pga::agent::collectors;
using Names = std::set<std::string>;

namespace {

// The registry columns of pg_statements that `sql` selects, as `s.name`, `d.name` or `... AS name`.
Names selected_registry_columns(const std::string& sql) {
  Names names;
  for (const auto& column : pga::metrics::find_family("pg_statements")->columns) {
    const std::regex output("(s\\.|d\\.| AS )" + std::string(column.name) + "(,| FROM )");
    if (std::regex_search(sql, output)) names.emplace(column.name);
  }
  return names;
}

Names with(Names base, std::initializer_list<const char*> added, std::initializer_list<const char*> removed = {}) {
  for (const auto* name : added) base.emplace(name);
  for (const auto* name : removed) base.erase(name);
  return base;
}

// 1.7: every extension version's counters, with times under their 1.8 names.
const Names kVersion17{"dbid", "userid", "queryid", "toplevel", "datname", "usename", "calls", "rows",
                       "shared_blks_hit", "shared_blks_read", "shared_blks_dirtied", "shared_blks_written",
                       "local_blks_hit", "local_blks_read", "local_blks_dirtied", "local_blks_written",
                       "temp_blks_read", "temp_blks_written", "total_exec_time", "min_exec_time", "max_exec_time",
                       "mean_exec_time", "stddev_exec_time", "blk_read_time", "blk_write_time"};
const Names kVersion18 = with(kVersion17, {"plans", "total_plan_time", "min_plan_time", "max_plan_time", "mean_plan_time",
                                           "stddev_plan_time", "wal_records", "wal_fpi", "wal_bytes"});
const Names kVersion110 =
    with(kVersion18, {"temp_blk_read_time", "temp_blk_write_time", "jit_functions", "jit_generation_time",
                      "jit_inlining_count", "jit_inlining_time", "jit_optimization_count", "jit_optimization_time",
                      "jit_emission_count", "jit_emission_time"});
const Names kVersion111 = with(kVersion110,
                               {"shared_blk_read_time", "shared_blk_write_time", "local_blk_read_time",
                                "local_blk_write_time", "jit_deform_count", "jit_deform_time", "stats_since",
                                "minmax_stats_since"},
                               {"blk_read_time", "blk_write_time"});

std::string sql_for(const char* version) { return pg_statements_sql(*parse_extension_version(version), "\"public\""); }

StatementReading reading(std::int64_t queryid, std::int64_t calls, double time, bool toplevel = true) {
  return {{5, 10, queryid, toplevel}, {calls, time}};
}

StatementTotalsByKey totals_of(const std::vector<StatementReading>& readings) {
  StatementTotalsByKey totals;
  for (const auto& r : readings) totals.emplace(r.key, r.totals);
  return totals;
}

using Chosen = std::vector<std::size_t>;

}  // namespace

TEST_CASE("extension versions compare as numbers") {
  CHECK(parse_extension_version("1.10") == ExtensionVersion{1, 10});
  CHECK(*parse_extension_version("1.10") > *parse_extension_version("1.9"));
  CHECK(parse_extension_version("1.7") == ExtensionVersion{1, 7});
  for (const char* bad : {"", "1", "1.", ".7", "1.x", "one.two", "1.7beta"})
    CHECK_MESSAGE(!parse_extension_version(bad), bad);
}

TEST_CASE("1.7 (PostgreSQL 12): *_time read as *_exec_time, every entry top-level, no planning, WAL or JIT") {
  const auto sql = sql_for("1.7");
  CHECK(selected_registry_columns(sql) == kVersion17);
  CHECK(sql.find("s.total_time AS total_exec_time") != std::string::npos);
  CHECK(sql.find("s.stddev_time AS stddev_exec_time") != std::string::npos);
  CHECK(sql.find("true AS toplevel") != std::string::npos);
}

TEST_CASE("1.8 (PostgreSQL 13): exec and plan times, WAL counters; still no toplevel column") {
  const auto sql = sql_for("1.8");
  CHECK(selected_registry_columns(sql) == kVersion18);
  CHECK(sql.find("true AS toplevel") != std::string::npos);
  CHECK(sql.find("s.wal_bytes::bigint AS wal_bytes") != std::string::npos);  // numeric in the view
}

TEST_CASE("1.9 (PostgreSQL 14): toplevel comes from the view") {
  const auto sql = sql_for("1.9");
  CHECK(selected_registry_columns(sql) == kVersion18);
  CHECK(sql.find("s.toplevel") != std::string::npos);
  CHECK(sql.find("true AS toplevel") == std::string::npos);
}

TEST_CASE("1.10 (PostgreSQL 15 and 16): temp block times and JIT") {
  CHECK(selected_registry_columns(sql_for("1.10")) == kVersion110);
}

TEST_CASE("1.11 (PostgreSQL 17): shared and local block times replace blk_*_time; deform JIT and stats_since") {
  const auto sql = sql_for("1.11");
  CHECK(selected_registry_columns(sql) == kVersion111);
  CHECK(sql.find("s.blk_read_time") == std::string::npos);
  CHECK(sql.find("(s.stats_since) AS stats_since") != std::string::npos);
  // A later version keeps 1.11's columns.
  CHECK(selected_registry_columns(sql_for("1.12")) == kVersion111);
}

TEST_CASE("every version reads without texts from the extension's schema, keyed rows only") {
  for (const char* version : {"1.7", "1.8", "1.9", "1.10", "1.11"}) {
    const auto sql = pg_statements_sql(*parse_extension_version(version), "\"my schema\"");
    CHECK(sql.find("FROM \"my schema\".pg_stat_statements(false) s") != std::string::npos);
    CHECK(sql.find("WHERE s.queryid IS NOT NULL") != std::string::npos);
    CHECK(sql.find("LEFT JOIN pg_database d ON d.oid = s.dbid") != std::string::npos);
    CHECK(sql.find("LEFT JOIN pg_roles r ON r.oid = s.userid") != std::string::npos);
  }
  const auto texts = pg_statements_texts_sql("\"my schema\"");
  CHECK(texts.find("\"my schema\".pg_stat_statements(true)") != std::string::npos);
  CHECK(texts.find("queryid = ANY($1::bigint[])") != std::string::npos);
}

TEST_CASE("the probe asks for pg_read_all_stats the way each PostgreSQL version checks it") {
  CHECK(pg_statements_probe_sql(120000).find("pg_has_role('pg_read_all_stats', 'MEMBER')") != std::string::npos);
  CHECK(pg_statements_probe_sql(140000).find("'MEMBER'") != std::string::npos);
  CHECK(pg_statements_probe_sql(150000).find("pg_has_role('pg_read_all_stats', 'USAGE')") != std::string::npos);
  CHECK(pg_statements_probe_sql(170000).find("'USAGE'") != std::string::npos);
  CHECK(pg_statements_probe_sql(170000).find("WHERE e.extname = 'pg_stat_statements'") != std::string::npos);
}

TEST_CASE("top_n 0 sends every entry") {
  const std::vector<StatementReading> now{reading(1, 5, 1.0), reading(2, 6, 2.0), reading(3, 7, 3.0)};
  CHECK(select_statements(now, nullptr, 0) == Chosen{0, 1, 2});
  const auto before = totals_of(now);
  CHECK(select_statements(now, &before, 0) == Chosen{0, 1, 2});
}

TEST_CASE("the first read sends the top_n by total_exec_time") {
  const std::vector<StatementReading> now{reading(1, 1000, 1.0), reading(2, 1, 50.0), reading(3, 2, 30.0),
                                          reading(4, 3, 40.0)};
  CHECK(select_statements(now, nullptr, 2) == Chosen{1, 3});
  CHECK(select_statements(now, nullptr, 10) == Chosen{0, 1, 2, 3});
}

TEST_CASE("later reads send the union of the top_n by growth of calls and of time") {
  const std::vector<StatementReading> before{reading(1, 100, 10.0), reading(2, 100, 10.0), reading(3, 100, 10.0),
                                             reading(4, 100, 10.0), reading(5, 100, 10.0)};
  const std::vector<StatementReading> now{
      reading(1, 1100, 11.0),   // +1000 calls, +1 ms: the chattiest
      reading(2, 100, 10.0),    // unchanged: never sent, however large its totals
      reading(3, 101, 510.0),   // +1 call, +500 ms: the costliest
      reading(4, 150, 60.0),    // +50 calls, +50 ms: second on both lists
      reading(5, 110, 12.0),    // +10 calls, +2 ms: third on both lists
      reading(6, 2, 0.5),       // new since the previous read: grows by its full values
  };
  const auto previous = totals_of(before);
  CHECK(select_statements(now, &previous, 1) == Chosen{0, 2});
  CHECK(select_statements(now, &previous, 2) == Chosen{0, 2, 3});
  // By calls: 1, 4, 5; by time: 3, 4, 5. Statement 6 (2 calls, 0.5 ms) makes neither list.
  CHECK(select_statements(now, &previous, 3) == Chosen{0, 2, 3, 4});
  CHECK(select_statements(now, &previous, 4) == Chosen{0, 2, 3, 4, 5});
  for (std::size_t n = 1; n <= 6; ++n) CHECK(select_statements(now, &previous, n).size() <= 2 * n);
  CHECK(select_statements(now, &previous, 100) == Chosen{0, 2, 3, 4, 5});
}

TEST_CASE("a reset entry counts with its full values; nesting level is part of the key") {
  const std::vector<StatementReading> before{reading(1, 1000, 100.0), reading(2, 10, 1.0)};
  const std::vector<StatementReading> now{reading(1, 40, 4.0),  // reset since: 40 calls, not -960
                                          reading(2, 15, 1.5), reading(2, 30, 3.0, false)};
  const auto previous = totals_of(before);
  CHECK(select_statements(now, &previous, 1) == Chosen{0});
  // The nested entry of statement 2 is new: its 30 calls beat the top-level entry's 5.
  CHECK(select_statements(std::vector<StatementReading>{now[1], now[2]}, &previous, 1) == Chosen{1});
}

TEST_CASE("ties go to the smaller key, so the same readings always send the same entries") {
  const std::vector<StatementReading> now{reading(9, 1, 1.0), reading(3, 1, 1.0), reading(7, 1, 1.0)};
  const StatementTotalsByKey nothing;
  CHECK(select_statements(now, &nothing, 1) == Chosen{1});
  CHECK(select_statements(now, nullptr, 2) == Chosen{1, 2});
}

TEST_CASE("query texts are valid UTF-8 of at most the cap, cut between characters") {
  CHECK(bounded_query_text("SELECT 1") == "SELECT 1");
  CHECK(bounded_query_text("SELECT 12345", 8) == "SELECT 1");
  CHECK(bounded_query_text("ééé", 5) == "éé");  // 2 bytes each: the third would be split
  CHECK(bounded_query_text("a\xff" "b") == "a\xEF\xBF\xBD" "b");
  // Each invalid byte becomes three: the cleaned text is cut again to the cap.
  CHECK(bounded_query_text("\xff\xff\xff", 5) == "\xEF\xBF\xBD");
  const auto long_text = std::string(20000, 'x');
  CHECK(bounded_query_text(long_text).size() == pga::metrics::kMaxQueryTextBytes);
}
