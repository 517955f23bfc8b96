// A pg_stat_statements query text as the push batch carries it ("query_texts"): the agent sends
// each once per run with the rows of its statement; the server stores it once per instance.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace pga::metrics {

// Longer texts are cut by the agent and refused by the server: a dictionary of statements, not
// a copy of every generated IN list.
inline constexpr std::size_t kMaxQueryTextBytes = 16 * 1024;

struct QueryText {
  std::string instance;  // the [[instance]] name
  std::int64_t queryid;
  std::int64_t dbid;
  std::int64_t userid;
  std::string query;  // valid UTF-8, at most kMaxQueryTextBytes
};

}  // namespace pga::metrics
