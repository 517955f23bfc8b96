// The `disk_io` family from /proc/diskstats, with sysfs deciding which devices are whole disks.
// Every counter is the kernel's own, cumulative since boot (or since the device appeared).
#include "pganalytics/agent/collectors/os_disk_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <string>

namespace pga::agent::collectors {
namespace {

constexpr std::int64_t kSectorBytes = 512;

// Positions among the numbers after "major minor name".
constexpr std::array<CounterField, 14> kCounters = {{
    {"reads_completed", 0},
    {"reads_merged", 1},
    {"read_bytes", 2, kSectorBytes},
    {"read_time_ms", 3},
    {"writes_completed", 4},
    {"writes_merged", 5},
    {"write_bytes", 6, kSectorBytes},
    {"write_time_ms", 7},
    {"io_in_progress", 8},
    {"io_time_ms", 9},
    {"weighted_io_time_ms", 10},
    {"discards_completed", 11},  // 4.18
    {"discard_bytes", 13, kSectorBytes},
    {"flushes_completed", 15},  // 5.5
}};
constexpr auto kColumns = key_and_columns("device", kCounters);

// Every kernel since 2.6.25 prints at least these for every device.
constexpr std::size_t kMinFields = 3 + 11;

// Virtual or removable devices whose I/O is either not disk I/O or is counted again elsewhere.
bool is_skipped_kind(std::string_view device) {
  for (std::string_view prefix : {"loop", "ram", "zram", "fd", "sr"})
    if (device.size() > prefix.size() && device.starts_with(prefix) &&
        std::isdigit(static_cast<unsigned char>(device[prefix.size()])))
      return true;
  return false;
}

// sysfs spells the '/' of names such as cciss/c0d0 as '!'.
std::string sysfs_name(std::string_view device) {
  std::string name(device);
  std::replace(name.begin(), name.end(), '/', '!');
  return name;
}

}  // namespace

bool is_partition(const HostPaths& paths, std::string_view device) {
  const auto name = sysfs_name(device);
  std::error_code ec;
  return std::filesystem::exists(paths.sys_root / "class" / "block" / name / "partition", ec) ||
         !std::filesystem::exists(paths.sys_root / "block" / name, ec);
}

OsResult<metrics::Sample> collect_disk_io(const HostPaths& paths) {
  const auto sys_block = paths.sys_root / "block";
  std::error_code ec;
  // Without /sys/block every device would look like a partition and the family would be empty.
  if (!std::filesystem::is_directory(sys_block, ec)) return OsError{sys_block.string(), "not a directory"};
  const auto file = (paths.proc_root / "diskstats").string();
  const auto text = read_text(file);
  if (!text) return text.error();

  auto sample = host_sample("disk_io", kColumns);
  const auto lines = split_lines(*text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto fields = split_fields(lines[i]);
    if (fields.empty()) continue;
    const auto where = fmt::format("line {}", i + 1);
    if (fields.size() < kMinFields)
      return OsError{file, fmt::format("{}: {} fields, expected at least {}", where, fields.size(), kMinFields)};
    if (is_skipped_kind(fields[2]) || is_partition(paths, fields[2])) continue;
    auto row = counter_row(std::string(fields[2]), std::span(fields).subspan(3), kCounters, file, where);
    if (!row) return row.error();
    sample.rows.push_back(std::move(row).value());
  }
  return sample;
}

}  // namespace pga::agent::collectors
