// What one collector may put in a batch (issue 11.8, server.toml [limits]): objects per sample,
// instances and databases per collector, the length of a text value. Checked on the parsed JSON
// before any cell is encoded, so an absurd batch costs one pass over it, and refused with 400
// limit_exceeded naming the limit. The inventory a collector builds over many batches is checked
// against the same limits where it is stored (ingest_writer.cpp, check_inventory).
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include <set>
#include <utility>

#include "pganalytics/net/http.hpp"
#include "pganalytics/server/ingest.hpp"

namespace pga::server::ingest {
namespace {

namespace json = boost::json;

[[noreturn]] void refuse(const std::string& message) { throw net::ApiError(400, "limit_exceeded", message); }

std::string setting(std::string_view key) { return " (limits." + std::string(key) + ")"; }

// Where each text column of `family` sits in the sample's columns.
std::vector<std::pair<std::size_t, const metrics::Column*>> text_positions(const json::array& names,
                                                                        const metrics::Family& family) {
  std::vector<std::pair<std::size_t, const metrics::Column*>> positions;
  for (std::size_t i = 0; i < names.size(); ++i) {
    const auto* column = family.find_column(names[i].get_string());
    if (column && column->type == metrics::ColumnType::Text) positions.emplace_back(i, column);
  }
  return positions;
}

void check_texts(const json::array& rows, const json::array& names, const metrics::Family& family,
                 std::size_t sample, const Limits& limits) {
  const auto positions = text_positions(names, family);
  if (positions.empty()) return;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    const auto* row = rows[r].if_array();
    if (!row) continue;  // refused when encoded
    for (const auto& [position, column] : positions) {
      if (position >= row->size()) continue;
      const auto* text = (*row)[position].if_string();
      if (text && text->size() > limits.max_text_bytes)
        refuse("samples[" + std::to_string(sample) + "] row " + std::to_string(r) + ": column " +
               quoted(column->name) + " of family " + quoted(family.name) + " holds " +
               std::to_string(text->size()) + " bytes of text; a text value holds at most " +
               std::to_string(limits.max_text_bytes) + " bytes" + setting("text_bytes"));
    }
  }
}

std::optional<std::size_t> datname_position(const json::array& names) {
  for (std::size_t i = 0; i < names.size(); ++i)
    if (names[i].get_string() == "datname") return i;
  return std::nullopt;
}

}  // namespace

void check_batch_limits(const json::array& samples, const Limits& limits) {
  std::set<std::string_view> instances;
  std::set<std::pair<std::string_view, std::string_view>> databases;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const auto& sample = samples[i].get_object();
    const auto* family = metrics::find_family(sample.at("family").get_string());
    const auto& names = sample.at("columns").get_array();
    const auto& rows = sample.at("rows").get_array();
    std::string_view instance;
    if (const auto* value = sample.if_contains("instance"); value && value->is_string()) instance = value->get_string();
    if (!instance.empty() && instances.insert(instance).second && instances.size() > limits.max_instances)
      refuse("the batch names more than " + std::to_string(limits.max_instances) +
             " instances, the most one collector may report" + setting("instances_per_collector"));
    if (family->name == kDatabaseFamilyName) {
      const auto position = datname_position(names);
      for (const auto& row : rows) {
        const auto* cells = row.if_array();
        if (!cells || !position || *position >= cells->size() || !(*cells)[*position].is_string()) continue;
        if (databases.emplace(instance, (*cells)[*position].get_string()).second &&
            databases.size() > limits.max_databases)
          refuse("the batch names more than " + std::to_string(limits.max_databases) +
                 " databases, the most one collector may report" + setting("databases_per_collector"));
      }
    }
    if (rows.size() > limits.max_objects_per_sample)
      refuse("samples[" + std::to_string(i) + "]: family " + quoted(family->name) + " has " +
             std::to_string(rows.size()) + " rows; a sample holds at most " +
             std::to_string(limits.max_objects_per_sample) + " objects" + setting("objects_per_sample"));
    check_texts(rows, names, *family, i, limits);
  }
}

}  // namespace pga::server::ingest
