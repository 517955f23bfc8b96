// The pg_statements family: pg_stat_statements read without texts every cycle, the statements
// that grew most sent, and each statement's text fetched once and handed to the next batch.
#pragma once
#include <compare>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pganalytics/agent/collector.hpp"
#include "pganalytics/agent/collectors/pg_session.hpp"
#include "pganalytics/metrics/query_text.hpp"

namespace pga::agent::collectors {

// `texts` belongs to the runtime, which moves what collectors leave there into the batch it seals
// next, together with their samples. top_n 0 sends every entry.
CollectorPtr make_pg_statements(std::shared_ptr<PgSession> session, std::int64_t top_n,
                                std::vector<metrics::QueryText>& texts);

// --- the SQL, by the installed extension's version (shared PG_VERSIONS.md); exposed for tests ---

struct ExtensionVersion {
  int major = 0;
  int minor = 0;
  auto operator<=>(const ExtensionVersion&) const = default;
};
// "1.10" → {1, 10}; nullopt for anything else.
std::optional<ExtensionVersion> parse_extension_version(std::string_view text);

// One row when the extension is installed in the connected database: extversion, its schema as
// a quoted identifier, and whether this role sees other roles' statements (pg_read_all_stats).
std::string pg_statements_probe_sql(int server_version_num);
// The figures, without texts, aliased to the registry's column names, of the entries that are
// new or whose calls differ from the known ones: $1..$5 are arrays of their dbid, userid,
// queryid, toplevel and calls (all empty: every entry).
std::string pg_statements_sql(ExtensionVersion version, std::string_view quoted_schema);
// The texts of the query ids in $1 (a bigint[]).
std::string pg_statements_texts_sql(std::string_view quoted_schema);

// --- which entries go out; pure, exposed for tests ---

struct StatementKey {
  std::int64_t dbid;
  std::int64_t userid;
  std::int64_t queryid;
  bool toplevel;
  auto operator<=>(const StatementKey&) const = default;
};
struct StatementTotals {
  std::int64_t calls;
  double total_exec_time;
};
struct StatementReading {
  StatementKey key;
  StatementTotals totals;
};
using StatementTotalsByKey = std::map<StatementKey, StatementTotals>;

// The indices (ascending) of the entries of `current` to send. With top_n 0: all. On the first
// read (`previous` null): the top_n by total_exec_time. Afterwards: the union of the top_n by
// growth of calls and the top_n by growth of total_exec_time since `previous` (so at most
// 2 × top_n), among entries that grew at all; an entry new since `previous`, or whose counters
// went back (reset), grows by its full values. Ties go to the smaller key, so the choice is stable.
std::vector<std::size_t> select_statements(const std::vector<StatementReading>& current,
                                           const StatementTotalsByKey* previous, std::size_t top_n);

// A query text as it may travel: valid UTF-8 (invalid bytes become U+FFFD), cut on a character
// boundary to at most `max_bytes`.
std::string bounded_query_text(std::string_view text, std::size_t max_bytes = metrics::kMaxQueryTextBytes);

}  // namespace pga::agent::collectors
