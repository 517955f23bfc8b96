// Batch serialisation with Boost.JSON. Non-finite doubles (which JSON cannot carry) become null.
#include "pganalytics/agent/batch.hpp"

#include "pganalytics/common/time_format.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <cmath>

namespace pga::agent {
namespace json = boost::json;

namespace {

json::value cell_json(const metrics::Cell& cell) {
  return std::visit(
      [](const auto& v) -> json::value {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) return nullptr;
        else if constexpr (std::is_same_v<T, double>) return std::isfinite(v) ? json::value(v) : json::value(nullptr);
        else return json::value(v);
      },
      cell);
}

json::object sample_json(const metrics::Sample& sample) {
  json::object out;
  out["family"] = sample.family;
  if (!sample.instance.empty()) out["instance"] = sample.instance;
  out["at"] = rfc3339_utc(sample.at);
  json::array columns;
  for (const auto& c : sample.columns) columns.emplace_back(c);
  out["columns"] = std::move(columns);
  json::array rows;
  rows.reserve(sample.rows.size());
  for (const auto& row : sample.rows) {
    json::array cells;
    cells.reserve(row.size());
    for (const auto& cell : row) cells.push_back(cell_json(cell));
    rows.emplace_back(std::move(cells));
  }
  out["rows"] = std::move(rows);
  return out;
}

}  // namespace

std::string batch_json(const BatchHeader& header, std::uint64_t seq, const std::vector<metrics::Sample>& samples,
                       const std::vector<SeqRange>& dropped, const std::vector<metrics::QueryText>& query_texts) {
  json::object batch;
  batch["collector_id"] = header.collector_id;
  batch["seq"] = seq;
  batch["sent_at"] = rfc3339_utc(std::chrono::system_clock::now());
  batch["agent"] = json::object{{"version", header.agent_version}, {"hostname", header.hostname}};
  json::array sample_array;
  for (const auto& s : samples) sample_array.emplace_back(sample_json(s));
  batch["samples"] = std::move(sample_array);
  json::array dropped_array;
  for (const auto& range : dropped) dropped_array.emplace_back(json::array{range.first, range.last});
  batch["dropped"] = std::move(dropped_array);
  if (!query_texts.empty()) {
    json::array texts;
    for (const auto& text : query_texts)
      texts.emplace_back(json::object{{"instance", text.instance},
                                      {"queryid", text.queryid},
                                      {"dbid", text.dbid},
                                      {"userid", text.userid},
                                      {"query", text.query}});
    batch["query_texts"] = std::move(texts);
  }
  return json::serialize(batch);
}

}  // namespace pga::agent
