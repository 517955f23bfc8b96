// pg_log samples from classified events. Cells are built per registry column by name, so a
// column added to the registry without a value here fails loudly instead of shifting rows.
#include "pganalytics/agent/log/samples.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>

#include "pganalytics/metrics/registry.hpp"

namespace pga::agent::log {
namespace {

using metrics::Cell;
using Extract = Cell (*)(const LogEvent&);

Cell text(const std::string& s) { return s.empty() ? Cell{nullptr} : Cell{valid_utf8(s)}; }
template <class T>
Cell optional(const std::optional<T>& v) {
  return v ? Cell{*v} : Cell{nullptr};
}

constexpr std::array<std::pair<std::string_view, Extract>, 17> kColumns = {{
    {"event", [](const LogEvent& e) { return Cell{std::string{event_name(e.type)}}; }},
    {"severity", [](const LogEvent& e) { return text(e.severity); }},
    {"sqlstate", [](const LogEvent& e) { return text(e.sqlstate); }},
    {"duration_ms", [](const LogEvent& e) { return optional(e.duration_ms); }},
    {"database", [](const LogEvent& e) { return text(e.database); }},
    {"user_name", [](const LogEvent& e) { return text(e.user); }},
    {"application_name", [](const LogEvent& e) { return text(e.application); }},
    {"pid", [](const LogEvent& e) { return optional(e.pid); }},
    {"message", [](const LogEvent& e) { return text(e.message); }},
    {"occurrences", [](const LogEvent& e) { return Cell{e.occurrences}; }},
    {"buffers_written", [](const LogEvent& e) { return optional(e.buffers_written); }},
    {"write_ms", [](const LogEvent& e) { return optional(e.write_ms); }},
    {"sync_ms", [](const LogEvent& e) { return optional(e.sync_ms); }},
    {"relation", [](const LogEvent& e) { return text(e.relation); }},
    {"tuples_removed", [](const LogEvent& e) { return optional(e.tuples_removed); }},
    {"pages_removed", [](const LogEvent& e) { return optional(e.pages_removed); }},
    {"temp_file_bytes", [](const LogEvent& e) { return optional(e.temp_file_bytes); }},
}};

struct Layout {
  std::vector<std::string> names;
  std::vector<Extract> extract;
};

Layout layout() {
  const metrics::Family* family = metrics::find_family("pg_log");
  if (!family) throw std::logic_error("the registry has no pg_log family");
  Layout l;
  for (const metrics::Column& column : family->columns) {
    auto it = std::find_if(kColumns.begin(), kColumns.end(), [&](auto& c) { return c.first == column.name; });
    if (it == kColumns.end()) throw std::logic_error("pg_log column without a value: " + std::string{column.name});
    l.names.emplace_back(column.name);
    l.extract.push_back(it->second);
  }
  return l;
}

}  // namespace

std::vector<metrics::Sample> to_samples(std::vector<LogEvent> events, std::string_view instance,
                                        std::chrono::system_clock::time_point fallback) {
  static const Layout columns = layout();
  auto at = [&](const LogEvent& e) { return e.time.value_or(fallback); };
  std::stable_sort(events.begin(), events.end(), [&](auto& a, auto& b) { return at(a) < at(b); });
  std::vector<metrics::Sample> samples;
  for (const LogEvent& e : events) {
    if (samples.empty() || samples.back().at != at(e))
      samples.push_back({"pg_log", std::string{instance}, at(e), columns.names, {}});
    metrics::Row& row = samples.back().rows.emplace_back();
    row.reserve(columns.extract.size());
    for (Extract extract : columns.extract) row.push_back(extract(e));
  }
  return samples;
}

}  // namespace pga::agent::log
