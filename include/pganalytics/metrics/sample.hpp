// One sample: the rows a collector read for one family at one instant, in the column order it
// names. This is what the agent spools and pushes and what the server validates and stores.
#pragma once
#include <chrono>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace pga::metrics {

// NULL, bigint, double precision, boolean, or text. Timestamps travel as RFC 3339 UTC text
// ("2026-11-24T12:00:00.123Z") and are checked against the registry's column type.
using Cell = std::variant<std::nullptr_t, std::int64_t, double, bool, std::string>;
using Row = std::vector<Cell>;

struct Sample {
  std::string family;
  std::string instance;  // the [[instance]] name; empty for host families
  std::chrono::system_clock::time_point at;
  std::vector<std::string> columns;
  std::vector<Row> rows;
};

}  // namespace pga::metrics
