// The OS collectors on fixture snapshots (exact values read off the files) and on this host
// (values equal to what the kernel reports at the same time); every sample checked against the
// family registry.
#include <doctest/doctest.h>
#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include "pganalytics/agent/collectors/os_disk_io.hpp"
#include "pganalytics/agent/collectors/os_disk_usage.hpp"
#include "pganalytics/agent/collectors/os_network.hpp"
#include "pganalytics/agent/collectors/os_sysstat.hpp"
#include "pganalytics/metrics/registry.hpp"

using namespace pga;
using namespace pga::agent::collectors;
using metrics::Cell;
using metrics::Sample;

namespace {

HostPaths snapshot(const char* name) {
  return HostPaths::under(std::string(PGA_SOURCE_DIR "/tests/fixtures/proc/") + name);
}

bool cell_matches(metrics::ColumnType type, const Cell& cell) {
  static const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z)");
  if (std::holds_alternative<std::nullptr_t>(cell)) return true;
  switch (type) {
    case metrics::ColumnType::Int64: return std::holds_alternative<std::int64_t>(cell);
    case metrics::ColumnType::Float64: return std::holds_alternative<double>(cell);
    case metrics::ColumnType::Bool: return std::holds_alternative<bool>(cell);
    case metrics::ColumnType::Text: return std::holds_alternative<std::string>(cell);
    case metrics::ColumnType::Timestamp:
      return std::holds_alternative<std::string>(cell) && std::regex_match(std::get<std::string>(cell), rfc3339);
  }
  return false;
}

// Same column set as the registry's family, no duplicates, and every cell of the column's type.
Sample conforming(Sample sample) {
  const auto* family = metrics::find_family(sample.family);
  REQUIRE_MESSAGE(family, sample.family);
  CHECK(family->scope == metrics::Scope::Host);
  CHECK(sample.instance.empty());
  CHECK(std::set<std::string>(sample.columns.begin(), sample.columns.end()).size() == sample.columns.size());
  CHECK(sample.columns.size() == family->columns.size());
  for (const auto& row : sample.rows) {
    REQUIRE(row.size() == sample.columns.size());
    for (std::size_t i = 0; i < row.size(); ++i) {
      const auto* column = family->find_column(sample.columns[i]);
      REQUIRE_MESSAGE(column, sample.columns[i]);
      CHECK_MESSAGE(cell_matches(column->type, row[i]), sample.family, ".", sample.columns[i]);
    }
  }
  return sample;
}

template <class T>
T checked(OsResult<T> result) {
  REQUIRE_MESSAGE(result.has_value(), (result.has_value() ? "" : result.error().message()));
  return std::move(result).value();
}

// Host families' rows are keyed by their first column; sysstat has one row, found by key "".
const metrics::Row* find_row(const Sample& sample, std::string_view key) {
  if (key.empty()) return sample.rows.size() == 1 ? &sample.rows.front() : nullptr;
  for (const auto& row : sample.rows)
    if (std::get<std::string>(row.front()) == key) return &row;
  return nullptr;
}

const Cell& cell(const Sample& sample, std::string_view key, std::string_view column) {
  const auto* row = find_row(sample, key);
  REQUIRE_MESSAGE(row, key);
  const auto at = std::find(sample.columns.begin(), sample.columns.end(), column);
  REQUIRE_MESSAGE(at != sample.columns.end(), column);
  return (*row)[at - sample.columns.begin()];
}

std::int64_t int_of(const Sample& s, std::string_view key, std::string_view column) {
  const auto c = cell(s, key, column);
  REQUIRE_MESSAGE(std::holds_alternative<std::int64_t>(c), column);
  return std::get<std::int64_t>(c);
}

double real_of(const Sample& s, std::string_view key, std::string_view column) {
  const auto c = cell(s, key, column);
  REQUIRE_MESSAGE(std::holds_alternative<double>(c), column);
  return std::get<double>(c);
}

bool is_null(const Sample& s, std::string_view key, std::string_view column) {
  return std::holds_alternative<std::nullptr_t>(cell(s, key, column));
}

std::vector<std::string> keys(const Sample& sample) {
  std::vector<std::string> out;
  for (const auto& row : sample.rows) out.push_back(std::get<std::string>(row.front()));
  return out;
}

// A statvfs over made-up figures per mountpoint, failing with errno where asked to.
struct FakeStatvfs {
  std::map<std::string, unsigned long> blocks;  // the others derive from it
  std::map<std::string, int> failures;
  std::vector<std::string> asked;

  StatvfsFn fn() {
    return [this](const char* path, struct statvfs* out) {
      asked.emplace_back(path);
      if (failures.contains(path)) {
        errno = failures[path];
        return -1;
      }
      const auto b = blocks.at(path);
      *out = {};
      out->f_frsize = 4096, out->f_blocks = b, out->f_bfree = b / 2, out->f_bavail = b / 4;
      out->f_files = b * 3, out->f_ffree = b;
      return 0;
    };
  }
};

}  // namespace

TEST_CASE("os_ sysstat on a real 6.18 snapshot") {
  const auto s = conforming(checked(collect_sysstat(snapshot("vm-6.18"), 100)));
  CHECK(s.family == "sysstat");
  CHECK(real_of(s, "", "cpu_user") == 92622 / 100.0);
  CHECK(real_of(s, "", "cpu_nice") == 0.0);
  CHECK(real_of(s, "", "cpu_system") == 15447 / 100.0);
  CHECK(real_of(s, "", "cpu_idle") == 240934 / 100.0);
  CHECK(real_of(s, "", "cpu_iowait") == 2364 / 100.0);
  CHECK(real_of(s, "", "cpu_softirq") == 381 / 100.0);
  CHECK(real_of(s, "", "cpu_steal") == 1677 / 100.0);
  CHECK(real_of(s, "", "cpu_guest_nice") == 0.0);
  CHECK(int_of(s, "", "cpu_count") == 2);
  CHECK(int_of(s, "", "mem_total_bytes") == 24684096LL * 1024);
  CHECK(int_of(s, "", "mem_free_bytes") == 22426184LL * 1024);
  CHECK(int_of(s, "", "mem_available_bytes") == 23041100LL * 1024);
  CHECK(int_of(s, "", "mem_buffers_bytes") == 18564LL * 1024);
  CHECK(int_of(s, "", "mem_cached_bytes") == 765604LL * 1024);
  CHECK(int_of(s, "", "mem_dirty_bytes") == 16468LL * 1024);
  CHECK(int_of(s, "", "mem_shared_bytes") == 31188LL * 1024);
  CHECK(int_of(s, "", "swap_total_bytes") == 0);
  CHECK(int_of(s, "", "swap_in_pages") == 0);
  CHECK(real_of(s, "", "load1") == 8.65);
  CHECK(real_of(s, "", "load5") == 5.56);
  CHECK(real_of(s, "", "load15") == 2.55);
  CHECK(int_of(s, "", "threads_total") == 135);
  CHECK(int_of(s, "", "procs_running") == 9);
  CHECK(int_of(s, "", "procs_blocked") == 0);
  CHECK(int_of(s, "", "context_switches") == 710348);
  CHECK(int_of(s, "", "forks") == 11158);
  CHECK(int_of(s, "", "interrupts") == 564957);
  CHECK(std::get<std::string>(cell(s, "", "boot_time")) == "2026-11-25T21:48:47.000Z");
}

TEST_CASE("os_ sysstat on a hand-made snapshot with swap in use") {
  const auto s = conforming(checked(collect_sysstat(snapshot("partitioned"), 100)));
  CHECK(real_of(s, "", "cpu_user") == 123456 / 100.0);
  CHECK(real_of(s, "", "cpu_nice") == 789 / 100.0);
  CHECK(real_of(s, "", "cpu_idle") == 9876543 / 100.0);
  CHECK(int_of(s, "", "cpu_count") == 4);
  CHECK(int_of(s, "", "swap_total_bytes") == 4194300LL * 1024);
  CHECK(int_of(s, "", "swap_free_bytes") == 4000000LL * 1024);
  CHECK(int_of(s, "", "swap_in_pages") == 1234);
  CHECK(int_of(s, "", "swap_out_pages") == 5678);
  CHECK(int_of(s, "", "threads_total") == 412);
  CHECK(int_of(s, "", "procs_blocked") == 1);
  CHECK(int_of(s, "", "interrupts") == 98765432);
  CHECK(std::get<std::string>(cell(s, "", "boot_time")) == "2023-11-14T22:13:20.000Z");
  // USER_HZ is not always 100: the same jiffies read at 250 Hz are fewer seconds.
  CHECK(real_of(checked(collect_sysstat(snapshot("partitioned"), 250)), "", "cpu_user") == 123456 / 250.0);
}

TEST_CASE("os_ sysstat on a 2.6.32 kernel: fields it lacks are NULL") {
  const auto s = conforming(checked(collect_sysstat(snapshot("rhel6-2.6.32"), 100)));
  CHECK(real_of(s, "", "cpu_guest") == 0.0);
  CHECK(is_null(s, "", "cpu_guest_nice"));
  CHECK(is_null(s, "", "mem_available_bytes"));
  CHECK(int_of(s, "", "mem_total_bytes") == 1922380LL * 1024);
  CHECK(int_of(s, "", "interrupts") == 114930548);
}

TEST_CASE("os_ disk_io counts whole devices once") {
  const auto vm = conforming(checked(collect_disk_io(snapshot("vm-6.18"))));
  CHECK(keys(vm) == std::vector<std::string>{"vda"});  // loop0-7 and zram0 skipped
  CHECK(int_of(vm, "vda", "reads_completed") == 102001);
  CHECK(int_of(vm, "vda", "reads_merged") == 30378);
  CHECK(int_of(vm, "vda", "read_bytes") == 4275826LL * 512);
  CHECK(int_of(vm, "vda", "read_time_ms") == 89613);
  CHECK(int_of(vm, "vda", "writes_completed") == 29298);
  CHECK(int_of(vm, "vda", "writes_merged") == 23022);
  CHECK(int_of(vm, "vda", "write_bytes") == 3649520LL * 512);
  CHECK(int_of(vm, "vda", "write_time_ms") == 17611);
  CHECK(int_of(vm, "vda", "io_in_progress") == 0);
  CHECK(int_of(vm, "vda", "io_time_ms") == 35292);
  CHECK(int_of(vm, "vda", "weighted_io_time_ms") == 108627);
  CHECK(int_of(vm, "vda", "discards_completed") == 7764);
  CHECK(int_of(vm, "vda", "discard_bytes") == 2073784LL * 512);
  CHECK(int_of(vm, "vda", "flushes_completed") == 988);

  const auto parts = conforming(checked(collect_disk_io(snapshot("partitioned"))));
  CHECK(keys(parts) == std::vector<std::string>{"sda", "nvme0n1", "dm-0"});
  CHECK(int_of(parts, "sda", "read_bytes") == 20000 * 512);
  CHECK(int_of(parts, "sda", "write_bytes") == 40000 * 512);
  CHECK(int_of(parts, "nvme0n1", "io_in_progress") == 2);
  CHECK(int_of(parts, "dm-0", "discard_bytes") == 80 * 512);
  CHECK(is_null(parts, "sda", "flushes_completed"));  // a 5.4 line: discards, no flushes

  const auto old = conforming(checked(collect_disk_io(snapshot("rhel6-2.6.32"))));
  CHECK(keys(old) == std::vector<std::string>{"sda"});
  CHECK(int_of(old, "sda", "weighted_io_time_ms") == 56163);
  CHECK(is_null(old, "sda", "discards_completed"));
  CHECK(is_null(old, "sda", "discard_bytes"));
  CHECK(is_null(old, "sda", "flushes_completed"));
}

TEST_CASE("os_ network reads every interface but loopback") {
  const auto vm = conforming(checked(collect_network(snapshot("vm-6.18"))));
  CHECK(keys(vm) == std::vector<std::string>{"ifb0", "ifb1", "eth0"});
  CHECK(int_of(vm, "eth0", "rx_bytes") == 57104405);
  CHECK(int_of(vm, "eth0", "rx_packets") == 1637);
  CHECK(int_of(vm, "eth0", "tx_bytes") == 55764);
  CHECK(int_of(vm, "eth0", "tx_packets") == 700);

  // eth0's receive bytes touch the colon, as they do once the counter is wide enough.
  const auto s = conforming(checked(collect_network(snapshot("partitioned"))));
  CHECK(keys(s) == std::vector<std::string>{"eth0", "docker0"});
  CHECK(int_of(s, "eth0", "rx_bytes") == 9876543210);
  CHECK(int_of(s, "eth0", "rx_packets") == 7654321);
  CHECK(int_of(s, "eth0", "rx_errors") == 3);
  CHECK(int_of(s, "eth0", "rx_dropped") == 4);
  CHECK(int_of(s, "eth0", "tx_bytes") == 1234567890);
  CHECK(int_of(s, "eth0", "tx_packets") == 2345678);
  CHECK(int_of(s, "eth0", "tx_errors") == 5);
  CHECK(int_of(s, "eth0", "tx_dropped") == 6);
  CHECK(int_of(s, "docker0", "tx_dropped") == 1);
}

TEST_CASE("os_ disk_usage measures each real filesystem once") {
  FakeStatvfs fake;
  fake.blocks = {{"/", 1000}, {"/srv/pg data", 2000}, {"/tank/backups", 3000}, {"/mnt/usb", 4000}};
  fake.failures = {{"/boot/efi", EACCES}};
  const auto usage = checked(collect_disk_usage(snapshot("partitioned"), fake.fn()));
  const auto s = conforming(usage.sample);
  // Pseudo, network and overlay mounts dropped; the bind mount of nvme0n1p1 under
  // /var/lib/postgresql counted at its shorter mountpoint; /mnt/usb is the exfat mounted last.
  CHECK(fake.asked == std::vector<std::string>{"/", "/boot/efi", "/srv/pg data", "/tank/backups", "/mnt/usb"});
  CHECK(keys(s) == std::vector<std::string>{"/", "/srv/pg data", "/tank/backups", "/mnt/usb"});
  REQUIRE(usage.skipped.size() == 1);
  CHECK(usage.skipped[0].mountpoint == "/boot/efi");
  CHECK(usage.skipped[0].reason == std::strerror(EACCES));

  CHECK(std::get<std::string>(cell(s, "/srv/pg data", "device")) == "/dev/nvme0n1p1");
  CHECK(std::get<std::string>(cell(s, "/srv/pg data", "fstype")) == "xfs");
  CHECK(std::get<std::string>(cell(s, "/tank/backups", "device")) == "tank/backups");
  CHECK(std::get<std::string>(cell(s, "/mnt/usb", "fstype")) == "exfat");
  CHECK(int_of(s, "/srv/pg data", "size_bytes") == 2000 * 4096);
  CHECK(int_of(s, "/srv/pg data", "free_bytes") == 1000 * 4096);
  CHECK(int_of(s, "/srv/pg data", "available_bytes") == 500 * 4096);
  CHECK(int_of(s, "/srv/pg data", "used_bytes") == (2000 - 1000) * 4096);
  CHECK(int_of(s, "/srv/pg data", "inodes_total") == 6000);
  CHECK(int_of(s, "/srv/pg data", "inodes_free") == 2000);
  CHECK(int_of(s, "/srv/pg data", "inodes_used") == 4000);

  FakeStatvfs vm;
  vm.blocks = {{"/", 10}};
  CHECK(keys(conforming(checked(collect_disk_usage(snapshot("vm-6.18"), vm.fn())).sample)) ==
        std::vector<std::string>{"/"});
  FakeStatvfs old;
  old.blocks = {{"/", 10}};
  const auto rhel = checked(collect_disk_usage(snapshot("rhel6-2.6.32"), old.fn()));
  CHECK(std::get<std::string>(cell(conforming(rhel.sample), "/", "device")) == "/dev/sda1");
}

TEST_CASE("os_ live: MemTotal equals /proc/meminfo") {
  const auto s = conforming(checked(collect_sysstat()));
  std::ifstream meminfo("/proc/meminfo");
  long long kb = -1;
  for (std::string line; kb < 0 && std::getline(meminfo, line);)
    if (line.starts_with("MemTotal:")) kb = std::stoll(line.substr(9));
  REQUIRE(kb > 0);
  CHECK(int_of(s, "", "mem_total_bytes") == kb * 1024);
}

TEST_CASE("os_ live: CPU counters never go back") {
  const auto first = checked(collect_sysstat());
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const auto second = checked(collect_sysstat());
  for (const char* column : {"cpu_user", "cpu_nice", "cpu_system", "cpu_idle", "cpu_iowait", "cpu_irq", "cpu_softirq",
                             "cpu_steal"})
    CHECK_MESSAGE(real_of(second, "", column) >= real_of(first, "", column), column);
  CHECK(int_of(second, "", "context_switches") >= int_of(first, "", "context_switches"));
  CHECK(int_of(second, "", "forks") >= int_of(first, "", "forks"));
}

TEST_CASE("os_ live: the root filesystem matches statvfs") {
  const auto usage = checked(collect_disk_usage());
  const auto s = conforming(usage.sample);
  const auto* root = find_row(s, "/");
  if (!root) {
    MESSAGE("/ is not a block-device filesystem on this host; nothing to compare");
    return;
  }
  struct statvfs fs {};
  REQUIRE(::statvfs("/", &fs) == 0);
  CHECK(int_of(s, "/", "size_bytes") == static_cast<std::int64_t>(fs.f_blocks * fs.f_frsize));
  CHECK(int_of(s, "/", "inodes_total") == static_cast<std::int64_t>(fs.f_files));
}

TEST_CASE("os_ live: disk_io and network samples conform") {
  const auto disks = conforming(checked(collect_disk_io()));
  for (const auto& device : keys(disks)) CHECK_FALSE(device.starts_with("loop"));
  const auto network = conforming(checked(collect_network()));
  CHECK(find_row(network, "lo") == nullptr);
}
