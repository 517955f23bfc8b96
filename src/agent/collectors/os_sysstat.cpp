// The `sysstat` family from four procfs files. Counters are passed through as the kernel keeps
// them (cumulative since boot); rates are the reader's business.
#include "pganalytics/agent/collectors/os_sysstat.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace pga::agent::collectors {
namespace {

enum class Source { Stat, Meminfo, Vmstat };

struct IntColumn {
  std::string_view column;
  Source source;
  std::string_view key;
  std::int64_t factor;
};

// meminfo reports kB (meaning KiB); vmstat's pswpin/pswpout are pages and stay pages.
constexpr IntColumn kIntColumns[] = {
    {"mem_total_bytes", Source::Meminfo, "MemTotal", 1024},
    {"mem_free_bytes", Source::Meminfo, "MemFree", 1024},
    {"mem_available_bytes", Source::Meminfo, "MemAvailable", 1024},
    {"mem_buffers_bytes", Source::Meminfo, "Buffers", 1024},
    {"mem_cached_bytes", Source::Meminfo, "Cached", 1024},
    {"mem_dirty_bytes", Source::Meminfo, "Dirty", 1024},
    {"mem_shared_bytes", Source::Meminfo, "Shmem", 1024},
    {"swap_total_bytes", Source::Meminfo, "SwapTotal", 1024},
    {"swap_free_bytes", Source::Meminfo, "SwapFree", 1024},
    {"swap_in_pages", Source::Vmstat, "pswpin", 1},
    {"swap_out_pages", Source::Vmstat, "pswpout", 1},
    {"procs_running", Source::Stat, "procs_running", 1},
    {"procs_blocked", Source::Stat, "procs_blocked", 1},
    {"context_switches", Source::Stat, "ctxt", 1},
    {"forks", Source::Stat, "processes", 1},
    {"interrupts", Source::Stat, "intr", 1},  // the first field is the total over all IRQs
};

// In the kernel's order on the "cpu" line; steal, guest and guest_nice came in later kernels.
constexpr std::array<std::string_view, 10> kCpuColumns = {
    "cpu_user", "cpu_nice", "cpu_system", "cpu_idle", "cpu_iowait",
    "cpu_irq", "cpu_softirq", "cpu_steal", "cpu_guest", "cpu_guest_nice"};
constexpr std::array<std::string_view, 3> kLoadColumns = {"load1", "load5", "load15"};

// Builds sysstat's single row column by column, so a name and its value never drift apart.
struct RowBuilder {
  metrics::Sample sample = host_sample("sysstat", {});
  RowBuilder() { sample.rows.emplace_back(); }
  void add(std::string_view column, metrics::Cell cell) {
    sample.columns.emplace_back(column);
    sample.rows.front().push_back(std::move(cell));
  }
};

bool is_per_cpu(std::string_view key) {
  return key.size() > 3 && key.starts_with("cpu") && std::isdigit(static_cast<unsigned char>(key[3]));
}

std::optional<OsError> add_cpu(RowBuilder& out, const KeyValueFile& stat, long clock_ticks) {
  const auto line = stat.entries().find("cpu");
  if (line == stat.entries().end()) return stat.error("no aggregate 'cpu' line");
  const auto fields = split_fields(line->second);
  if (fields.size() < 4) return stat.error("the 'cpu' line has fewer than 4 fields");
  for (std::size_t i = 0; i < kCpuColumns.size(); ++i) {
    if (i >= fields.size()) {
      out.add(kCpuColumns[i], nullptr);
      continue;
    }
    const auto jiffies = parse_int(fields[i]);
    if (!jiffies) return stat.error(fmt::format("cpu: not a counter: '{}'", fields[i]));
    out.add(kCpuColumns[i], static_cast<double>(*jiffies) / static_cast<double>(clock_ticks));
  }
  const auto per_cpu = std::count_if(stat.entries().begin(), stat.entries().end(),
                                     [](const auto& entry) { return is_per_cpu(entry.first); });
  out.add("cpu_count", static_cast<std::int64_t>(per_cpu));
  return std::nullopt;
}

std::optional<OsError> add_boot_time(RowBuilder& out, const KeyValueFile& stat) {
  auto btime = stat.int_cell("btime");
  if (!btime) return btime.error();
  if (const auto* seconds = std::get_if<std::int64_t>(&*btime))
    out.add("boot_time", rfc3339_utc(std::chrono::system_clock::time_point{std::chrono::seconds{*seconds}}));
  else
    out.add("boot_time", nullptr);
  return std::nullopt;
}

// "0.28 0.35 0.20 1/87 6040": three load averages, then runnable/total scheduling entities.
std::optional<OsError> add_loadavg(RowBuilder& out, const std::filesystem::path& path) {
  const auto text = read_text(path);
  if (!text) return text.error();
  const auto fields = split_fields(*text);
  const auto slash = fields.size() >= 4 ? fields[3].find('/') : std::string_view::npos;
  if (slash == std::string_view::npos) return OsError{path.string(), "expected 'load1 load5 load15 running/total'"};
  for (std::size_t i = 0; i < kLoadColumns.size(); ++i) {
    const auto load = parse_double(fields[i]);
    if (!load) return OsError{path.string(), fmt::format("not a load average: '{}'", fields[i])};
    out.add(kLoadColumns[i], *load);
  }
  const auto threads = parse_int(fields[3].substr(slash + 1));
  if (!threads) return OsError{path.string(), fmt::format("not a thread count: '{}'", fields[3])};
  out.add("threads_total", *threads);
  return std::nullopt;
}

}  // namespace

long user_hz() { return ::sysconf(_SC_CLK_TCK); }

OsResult<metrics::Sample> collect_sysstat(const HostPaths& paths, long clock_ticks) {
  if (clock_ticks <= 0) return OsError{"sysconf(_SC_CLK_TCK)", fmt::format("no clock tick rate ({})", clock_ticks)};
  auto stat = KeyValueFile::read(paths.proc_root / "stat");
  if (!stat) return stat.error();
  auto meminfo = KeyValueFile::read(paths.proc_root / "meminfo");
  if (!meminfo) return meminfo.error();
  if (!meminfo->contains("MemTotal")) return meminfo->error("no MemTotal");
  auto vmstat = KeyValueFile::read(paths.proc_root / "vmstat");
  if (!vmstat) return vmstat.error();

  RowBuilder out;
  if (auto failed = add_cpu(out, *stat, clock_ticks)) return *failed;
  if (auto failed = add_boot_time(out, *stat)) return *failed;
  if (auto failed = add_loadavg(out, paths.proc_root / "loadavg")) return *failed;
  const KeyValueFile* files[] = {&*stat, &*meminfo, &*vmstat};
  for (const auto& column : kIntColumns) {
    auto cell = files[static_cast<int>(column.source)]->int_cell(column.key, column.factor);
    if (!cell) return cell.error();
    out.add(column.column, std::move(cell).value());
  }
  return std::move(out.sample);
}

}  // namespace pga::agent::collectors
