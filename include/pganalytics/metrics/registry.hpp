// The family registry: the one definition of every metric family (name, table, columns with
// types and roles), shared by the agent's collectors, the server's ingestion and the tests.
#pragma once
#include <span>
#include <string_view>

namespace pga::metrics {

enum class ColumnType { Text, Int64, Float64, Bool, Timestamp };

// Key columns identify the object within the instance or host (datname, relname, device...);
// counters are cumulative as PostgreSQL or the kernel report them; gauges are point values;
// attributes describe the object (timestamps, names, states).
enum class ColumnKind { Key, Counter, Gauge, Attribute };

// Instance families belong to one [[instance]] of the agent; host families to the machine.
enum class Scope { Instance, Host };
enum class Retention { Raw, DiskUsage };

struct Column {
  std::string_view name;
  ColumnType type;
  ColumnKind kind;
};

struct Family {
  std::string_view name;   // as in the push batch and the query API
  std::string_view table;  // "metrics_" + name, in schema pganalytics
  Scope scope;
  Retention retention;
  bool has_hourly_rollup;  // table + "_1h"
  std::span<const Column> columns;
  std::string_view description;

  const Column* find_column(std::string_view column) const;
};

std::span<const Family> families();
const Family* find_family(std::string_view name);
std::string_view sql_type(ColumnType type);  // the PostgreSQL type of a column

}  // namespace pga::metrics
