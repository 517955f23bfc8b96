// The SQL of the pg_statements family, by extension version: columns a version lacks are not
// selected (stored as NULL), 1.7's *_time columns are aliased to the registry's *_exec_time names.
#include <charconv>

#include "pganalytics/agent/collectors/pg_statements.hpp"

namespace pga::agent::collectors {
namespace {

constexpr ExtensionVersion k18{1, 8}, k19{1, 9}, k110{1, 10}, k111{1, 11};

std::optional<int> whole_number(std::string_view text) {
  int value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return value;
}

}  // namespace

std::optional<ExtensionVersion> parse_extension_version(std::string_view text) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto major = whole_number(text.substr(0, dot));
  const auto minor = whole_number(text.substr(dot + 1));
  if (!major || !minor) return std::nullopt;
  return ExtensionVersion{*major, *minor};
}

std::string pg_statements_probe_sql(int server_version_num) {
  // PostgreSQL 12-14 test membership in pg_read_all_stats, 15 and later inherited privileges.
  const char* privilege = server_version_num >= 150000 ? "USAGE" : "MEMBER";
  return std::string("SELECT e.extversion, format('%I', n.nspname) AS schema, "
                     "pg_has_role('pg_read_all_stats', '") +
         privilege +
         "') AS reads_all_stats "
         "FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
         "WHERE e.extname = 'pg_stat_statements'";
}

std::string pg_statements_sql(ExtensionVersion version, std::string_view quoted_schema) {
  std::string columns =
      "s.dbid::bigint AS dbid, s.userid::bigint AS userid, s.queryid, d.datname, r.rolname AS usename, s.calls, "
      "s.rows, s.shared_blks_hit, s.shared_blks_read, s.shared_blks_dirtied, s.shared_blks_written, "
      "s.local_blks_hit, s.local_blks_read, s.local_blks_dirtied, s.local_blks_written, s.temp_blks_read, "
      "s.temp_blks_written";
  if (version < k18)
    columns +=
        ", s.total_time AS total_exec_time, s.min_time AS min_exec_time, s.max_time AS max_exec_time, "
        "s.mean_time AS mean_exec_time, s.stddev_time AS stddev_exec_time";
  else
    columns +=
        ", s.total_exec_time, s.min_exec_time, s.max_exec_time, s.mean_exec_time, s.stddev_exec_time, s.plans, "
        "s.total_plan_time, s.min_plan_time, s.max_plan_time, s.mean_plan_time, s.stddev_plan_time, "
        "s.wal_records, s.wal_fpi, s.wal_bytes::bigint AS wal_bytes";
  // Before 1.9 every entry is a top-level statement (nested ones were merged or not tracked).
  columns += version < k19 ? ", true AS toplevel" : ", s.toplevel";
  // 1.11 splits blk_*_time into shared_ and local_: the new names are their own columns.
  columns += version < k111 ? ", s.blk_read_time, s.blk_write_time"
                            : ", s.shared_blk_read_time, s.shared_blk_write_time, s.local_blk_read_time, "
                              "s.local_blk_write_time";
  if (version >= k110)
    columns +=
        ", s.temp_blk_read_time, s.temp_blk_write_time, s.jit_functions, s.jit_generation_time, "
        "s.jit_inlining_count, s.jit_inlining_time, s.jit_optimization_count, s.jit_optimization_time, "
        "s.jit_emission_count, s.jit_emission_time";
  if (version >= k111)
    columns += ", s.jit_deform_count, s.jit_deform_time, " + rfc3339_sql("s.stats_since") + " AS stats_since, " +
               rfc3339_sql("s.minmax_stats_since") + " AS minmax_stats_since";
  // The known entries come as five arrays: dbid, userid, queryid, toplevel and calls. NOT IN
  // makes PostgreSQL hash them (a join sorted every wide entry to merge them: twice the time).
  const auto toplevel = version < k19 ? "true" : "s.toplevel";
  // Without pg_read_all_stats, other roles' entries come with a NULL queryid: nothing to key them by.
  return "SELECT " + columns + " FROM " + std::string(quoted_schema) +
         ".pg_stat_statements(false) s LEFT JOIN pg_database d ON d.oid = s.dbid "
         "LEFT JOIN pg_roles r ON r.oid = s.userid WHERE s.queryid IS NOT NULL AND "
         "(s.dbid, s.userid, s.queryid, " +
         toplevel +
         ", s.calls) NOT IN (SELECT * FROM unnest($1::oid[], $2::oid[], $3::bigint[], $4::boolean[], $5::bigint[]))";
}

std::string pg_statements_texts_sql(std::string_view quoted_schema) {
  return "SELECT s.dbid::bigint AS dbid, s.userid::bigint AS userid, s.queryid, s.query FROM " +
         std::string(quoted_schema) + ".pg_stat_statements(true) s WHERE s.queryid = ANY($1::bigint[])";
}

}  // namespace pga::agent::collectors
