// Which pg_stat_statements entries a cycle sends (the union of the fastest growing by calls and by
// time, so both the chattiest and the costliest statements show) and how a query text is bounded.
#include <algorithm>
#include <numeric>

#include "pganalytics/agent/collectors/pg_statements.hpp"
#include "pganalytics/agent/log/event.hpp"

namespace pga::agent::collectors {
namespace {

// An entry's growth since the previous read; a new or reset entry grew by all it holds.
StatementTotals growth(const StatementReading& reading, const StatementTotalsByKey& previous) {
  const auto it = previous.find(reading.key);
  if (it == previous.end()) return reading.totals;
  const auto& before = it->second;
  if (reading.totals.calls < before.calls || reading.totals.total_exec_time < before.total_exec_time)
    return reading.totals;
  return {reading.totals.calls - before.calls, reading.totals.total_exec_time - before.total_exec_time};
}

// The first `top_n` of `candidates` by `measure` (largest first, ties to the smaller key).
template <typename Measure>
std::vector<std::size_t> top_by(std::vector<std::size_t> candidates, const std::vector<StatementReading>& current,
                                std::size_t top_n, Measure measure) {
  const auto keep = std::min(top_n, candidates.size());
  std::partial_sort(candidates.begin(), candidates.begin() + static_cast<std::ptrdiff_t>(keep), candidates.end(),
                    [&](std::size_t a, std::size_t b) {
                      const auto ma = measure(a), mb = measure(b);
                      return ma != mb ? ma > mb : current[a].key < current[b].key;
                    });
  candidates.resize(keep);
  return candidates;
}

}  // namespace

std::vector<std::size_t> select_statements(const std::vector<StatementReading>& current,
                                           const StatementTotalsByKey* previous, std::size_t top_n) {
  std::vector<std::size_t> all(current.size());
  std::iota(all.begin(), all.end(), std::size_t{0});
  if (top_n == 0) return all;
  std::vector<std::size_t> chosen;
  if (!previous) {
    chosen = top_by(all, current, top_n, [&](std::size_t i) { return current[i].totals.total_exec_time; });
  } else {
    std::vector<StatementTotals> grown;
    std::vector<std::size_t> growing;
    for (std::size_t i = 0; i < current.size(); ++i) {
      grown.push_back(growth(current[i], *previous));
      if (grown[i].calls > 0 || grown[i].total_exec_time > 0) growing.push_back(i);
    }
    chosen = top_by(growing, current, top_n, [&](std::size_t i) { return grown[i].calls; });
    const auto by_time = top_by(growing, current, top_n, [&](std::size_t i) { return grown[i].total_exec_time; });
    chosen.insert(chosen.end(), by_time.begin(), by_time.end());
  }
  std::sort(chosen.begin(), chosen.end());
  chosen.erase(std::unique(chosen.begin(), chosen.end()), chosen.end());
  return chosen;
}

std::string bounded_query_text(std::string_view text, std::size_t max_bytes) {
  // Cut the raw text first, so a megabyte-long statement is not cleaned whole to keep 16 KiB.
  const auto cut_at_character = [](std::string_view s, std::size_t max) {
    if (s.size() <= max) return s;
    std::size_t cut = max;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    return s.substr(0, cut);
  };
  // Replacement characters may make the cleaned text longer than the raw one: cut once more.
  const auto clean = log::valid_utf8(cut_at_character(text, max_bytes));
  return std::string(cut_at_character(clean, max_bytes));
}

}  // namespace pga::agent::collectors
