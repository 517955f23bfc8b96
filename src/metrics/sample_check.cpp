// Checking a collected sample against the family registry, cell by cell.
#include "pganalytics/metrics/sample_check.hpp"

#include <fmt/format.h>

#include <set>
#include <vector>

#include "pganalytics/metrics/registry.hpp"

namespace pga::metrics {
namespace {

bool fits(const Cell& cell, ColumnType type) {
  switch (type) {
    case ColumnType::Text:
    case ColumnType::Timestamp:
      return std::holds_alternative<std::string>(cell);
    case ColumnType::Int64:
      return std::holds_alternative<std::int64_t>(cell);
    case ColumnType::Float64:
      return std::holds_alternative<double>(cell) || std::holds_alternative<std::int64_t>(cell);
    case ColumnType::Bool:
      return std::holds_alternative<bool>(cell);
  }
  return false;
}

}  // namespace

std::optional<std::string> sample_problem(const Sample& sample) {
  const auto* family = find_family(sample.family);
  if (!family) return fmt::format("unknown family \"{}\"", sample.family);
  if ((family->scope == Scope::Instance) == sample.instance.empty())
    return fmt::format("family {} {} an instance", sample.family,
                       family->scope == Scope::Instance ? "needs" : "must not name");
  std::vector<const Column*> columns;
  std::set<std::string_view> seen;
  for (const auto& name : sample.columns) {
    const auto* column = family->find_column(name);
    if (!column) return fmt::format("family {} has no column \"{}\"", sample.family, name);
    if (!seen.insert(column->name).second) return fmt::format("column {}.{} appears twice", sample.family, name);
    columns.push_back(column);
  }
  for (std::size_t r = 0; r < sample.rows.size(); ++r) {
    const auto& row = sample.rows[r];
    if (row.size() != columns.size())
      return fmt::format("{} row {} has {} cells for {} columns", sample.family, r, row.size(), columns.size());
    for (std::size_t c = 0; c < row.size(); ++c) {
      const bool null = std::holds_alternative<std::nullptr_t>(row[c]);
      if (null && columns[c]->kind == ColumnKind::Key)
        return fmt::format("{} row {}: key column {} is NULL", sample.family, r, columns[c]->name);
      if (!null && !fits(row[c], columns[c]->type))
        return fmt::format("{} row {}: column {} holds a value of the wrong type", sample.family, r, columns[c]->name);
    }
  }
  return std::nullopt;
}

}  // namespace pga::metrics
