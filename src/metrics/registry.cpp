// Lookups over the family table defined in families.cpp.
#include "pganalytics/metrics/registry.hpp"

namespace pga::metrics {

const Column* Family::find_column(std::string_view column) const {
  for (const auto& c : columns)
    if (c.name == column) return &c;
  return nullptr;
}

const Family* find_family(std::string_view name) {
  for (const auto& f : families())
    if (f.name == name) return &f;
  return nullptr;
}

std::string_view sql_type(ColumnType type) {
  switch (type) {
    case ColumnType::Text: return "text";
    case ColumnType::Int64: return "bigint";
    case ColumnType::Float64: return "double precision";
    case ColumnType::Bool: return "boolean";
    case ColumnType::Timestamp: return "timestamp with time zone";
  }
  return "text";
}

}  // namespace pga::metrics
