// The `network` family from /proc/net/dev. The file is two header lines, then one line per
// interface: "name: 8 receive counters 8 transmit counters".
#include "pganalytics/agent/collectors/os_network.hpp"

#include <fmt/format.h>

#include <string>

namespace pga::agent::collectors {
namespace {

// Positions among the sixteen numbers after "name:".
constexpr std::array<CounterField, 8> kCounters = {{
    {"rx_bytes", 0},
    {"rx_packets", 1},
    {"rx_errors", 2},
    {"rx_dropped", 3},
    {"tx_bytes", 8},
    {"tx_packets", 9},
    {"tx_errors", 10},
    {"tx_dropped", 11},
}};
constexpr auto kColumns = key_and_columns("interface", kCounters);
constexpr std::size_t kHeaderLines = 2;
constexpr std::size_t kNumbers = 16;

}  // namespace

OsResult<metrics::Sample> collect_network(const HostPaths& paths) {
  const auto file = (paths.proc_root / "net" / "dev").string();
  const auto text = read_text(file);
  if (!text) return text.error();

  auto sample = host_sample("network", kColumns);
  const auto lines = split_lines(*text);
  if (lines.size() < kHeaderLines) return OsError{file, "no header"};
  for (std::size_t i = kHeaderLines; i < lines.size(); ++i) {
    const auto where = fmt::format("line {}", i + 1);
    // Interface names cannot contain ':', and large counters may touch it ("eth0:123456").
    const auto colon = lines[i].find(':');
    if (colon == std::string_view::npos) {
      if (split_fields(lines[i]).empty()) continue;
      return OsError{file, where + ": no ':' after the interface name"};
    }
    const auto name = split_fields(lines[i].substr(0, colon));
    const auto numbers = split_fields(lines[i].substr(colon + 1));
    if (name.size() != 1 || numbers.size() != kNumbers)
      return OsError{file, fmt::format("{}: expected 'name:' and {} numbers", where, kNumbers)};
    if (name.front() == "lo") continue;
    auto row = counter_row(std::string(name.front()), numbers, kCounters, file, where);
    if (!row) return row.error();
    sample.rows.push_back(std::move(row).value());
  }
  return sample;
}

}  // namespace pga::agent::collectors
