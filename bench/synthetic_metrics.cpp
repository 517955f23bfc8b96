// Synthetic samples built from the family registry, so every column the server knows is filled
// with a value of its type and role; a hash of (agent, object, column) keeps them reproducible.
#include "synthetic_metrics.hpp"

#include <fmt/format.h>

#include <stdexcept>
#include <string>
#include <string_view>

#include "pganalytics/common/time_format.hpp"
#include "pganalytics/metrics/registry.hpp"

namespace pga::bench {
namespace {

using metrics::Cell;
using metrics::Column;
using metrics::ColumnKind;
using metrics::ColumnType;

constexpr std::size_t kSchemas = 5;

std::uint64_t mix(std::uint64_t x) {  // splitmix64's finaliser
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// One monitored object (a database, a table, the host) of one agent.
struct Object {
  std::size_t agent;
  std::size_t family_tag;
  std::size_t ordinal;
  std::size_t databases;
};

std::uint64_t object_hash(const Object& object, std::size_t column_index) {
  return mix(mix(mix(mix(object.agent) ^ object.family_tag) ^ object.ordinal) ^ column_index);
}

std::string key_text(const Column& column, const Object& object) {
  if (column.name == "datname") return fmt::format("app_{}", object.ordinal % object.databases);
  if (column.name == "schemaname") return fmt::format("schema_{}", object.ordinal % kSchemas);
  return fmt::format("{}_{}", column.name, object.ordinal);
}

Cell timestamp_cell(std::uint64_t h, std::chrono::system_clock::time_point at) {
  if (h % 4 == 0) return nullptr;  // never vacuumed, never reset, ...
  const auto earlier = at - std::chrono::seconds(h % (7 * 86'400));
  return rfc3339_utc(earlier);
}

Cell int_cell(ColumnKind kind, std::uint64_t h, std::uint64_t seq) {
  const auto level = static_cast<std::int64_t>(h % 10'000'000);
  switch (kind) {
    case ColumnKind::Counter: return level + static_cast<std::int64_t>(seq * (1 + h % 5'000));
    case ColumnKind::Gauge: return level + static_cast<std::int64_t>(mix(h ^ seq) % (level / 50 + 1));
    default: return static_cast<std::int64_t>(16'384 + h % 1'000'000);  // oids and other ids
  }
}

Cell float_cell(ColumnKind kind, std::uint64_t h, std::uint64_t seq) {
  if (kind == ColumnKind::Counter)
    return static_cast<double>(h % 1'000'000) / 7.0 + static_cast<double>(seq) * static_cast<double>(h % 10'000) / 13.0;
  return static_cast<double>(h % 10'000) / 100.0 + static_cast<double>(mix(h ^ seq) % 100) / 1'000.0;
}

Cell cell_for(const Column& column, std::size_t column_index, const Object& object, std::uint64_t seq,
              std::chrono::system_clock::time_point at) {
  const auto h = object_hash(object, column_index);
  switch (column.type) {
    case ColumnType::Text:
      if (column.kind == ColumnKind::Key) return key_text(column, object);
      return fmt::format("{}_{}", column.name, h % 4);
    case ColumnType::Int64: return int_cell(column.kind, h, seq);
    case ColumnType::Float64: return float_cell(column.kind, h, seq);
    case ColumnType::Bool: return (h & 1) == 1;
    case ColumnType::Timestamp: return timestamp_cell(h, at);
  }
  throw std::logic_error("synthetic_samples: a column type without a generator");
}

const metrics::Family& family(std::string_view name) {
  const auto* found = metrics::find_family(name);
  if (!found) throw std::logic_error(fmt::format("synthetic_samples: the registry has no family {}", name));
  return *found;
}

metrics::Sample sample_of(std::string_view family_name, std::size_t family_tag, std::size_t objects,
                          const BatchShape& shape, std::size_t agent, std::uint64_t seq,
                          std::chrono::system_clock::time_point at) {
  const auto& spec = family(family_name);
  metrics::Sample sample;
  sample.family = std::string(spec.name);
  if (spec.scope == metrics::Scope::Instance) sample.instance = "main";
  sample.at = at;
  for (const auto& column : spec.columns) sample.columns.emplace_back(column.name);
  sample.rows.reserve(objects);
  for (std::size_t ordinal = 0; ordinal < objects; ++ordinal) {
    const Object object{agent, family_tag, ordinal, shape.databases};
    metrics::Row row;
    row.reserve(spec.columns.size());
    for (std::size_t c = 0; c < spec.columns.size(); ++c) row.push_back(cell_for(spec.columns[c], c, object, seq, at));
    sample.rows.push_back(std::move(row));
  }
  return sample;
}

std::size_t width(std::string_view family_name) { return family(family_name).columns.size(); }

}  // namespace

BatchShape BatchShape::for_values(std::size_t values) {
  BatchShape shape;
  const auto fixed = width("sysstat") + shape.databases * width("pg_stats_database");
  const auto per_table = width("pg_stats_table");
  shape.tables = values > fixed + per_table ? (values - fixed + per_table / 2) / per_table : 1;
  return shape;
}

std::size_t BatchShape::rows() const { return 1 + databases + tables; }

std::size_t BatchShape::values() const {
  return width("sysstat") + databases * width("pg_stats_database") + tables * width("pg_stats_table");
}

std::vector<metrics::Sample> synthetic_samples(const BatchShape& shape, std::size_t agent, std::uint64_t seq,
                                               std::chrono::system_clock::time_point at) {
  std::vector<metrics::Sample> samples;
  samples.push_back(sample_of("sysstat", 0, 1, shape, agent, seq, at));
  samples.push_back(sample_of("pg_stats_database", 1, shape.databases, shape, agent, seq, at));
  samples.push_back(sample_of("pg_stats_table", 2, shape.tables, shape, agent, seq, at));
  return samples;
}

}  // namespace pga::bench
