// The OS collectors on broken or unfamiliar input: every failure is an error value naming the
// file, never an exception; and the parsing primitives they share, edge by edge.
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <initializer_list>

#include "pganalytics/agent/collectors/os_disk_io.hpp"
#include "pganalytics/agent/collectors/os_disk_usage.hpp"
#include "pganalytics/agent/collectors/os_network.hpp"
#include "pganalytics/agent/collectors/os_sysstat.hpp"

using namespace pga::agent::collectors;
namespace fs = std::filesystem;

namespace {

// A throwaway host root holding just the files a case gives it; a valid sysstat set by default
// so that each case breaks one thing.
class TempHost {
 public:
  TempHost() : root_(fs::temp_directory_path() / fmt::format("pga-os-{}-{}", ::getpid(), next_++)) {
    fs::create_directories(root_ / "proc");
    fs::create_directories(root_ / "sys" / "block");
    write("proc/stat", "cpu  1 2 3 4 5 6 7 8 9 10\ncpu0 1 2 3 4 5 6 7 8 9 10\nctxt 5\nbtime 0\n");
    write("proc/meminfo", "MemTotal: 1024 kB\n");
    write("proc/vmstat", "pswpin 0\npswpout 0\n");
    write("proc/loadavg", "0.00 0.00 0.00 1/10 100\n");
  }
  ~TempHost() {
    std::error_code ec;
    fs::remove_all(root_, ec);
  }
  TempHost(const TempHost&) = delete;
  TempHost& operator=(const TempHost&) = delete;

  void write(const std::string& relative, const std::string& text) const {
    fs::create_directories((root_ / relative).parent_path());
    std::ofstream(root_ / relative) << text;
  }
  void remove(const std::string& relative) const { fs::remove(root_ / relative); }
  HostPaths paths() const { return HostPaths::under(root_); }
  std::string file(const std::string& relative) const { return (root_ / relative).string(); }

 private:
  static inline std::atomic<int> next_{0};
  fs::path root_;
};

template <class T>
OsError failure(const OsResult<T>& result) {
  REQUIRE_FALSE(result.has_value());
  return result.error();
}

}  // namespace

TEST_CASE("os_ sysstat: a missing or malformed file is an error naming it") {
  TempHost host;
  REQUIRE(collect_sysstat(host.paths(), 100).has_value());
  for (const char* file : {"proc/stat", "proc/meminfo", "proc/vmstat", "proc/loadavg"}) {
    TempHost missing;
    missing.remove(file);
    CHECK(failure(collect_sysstat(missing.paths(), 100)).file == missing.file(file));
  }
  host.write("proc/stat", "cpu  1 2 3 4\nctxt lots\n");
  const auto bad_counter = failure(collect_sysstat(host.paths(), 100));
  CHECK(bad_counter.file == host.file("proc/stat"));
  CHECK(bad_counter.reason.find("ctxt") != std::string::npos);
  host.write("proc/stat", "cpu0 1 2 3 4\n");
  CHECK(failure(collect_sysstat(host.paths(), 100)).reason.find("'cpu'") != std::string::npos);
  host.write("proc/stat", "cpu  1 2 x 4\n");
  CHECK(failure(collect_sysstat(host.paths(), 100)).file == host.file("proc/stat"));
  host.write("proc/stat", "cpu  1 2 3 4\nlonely\n");
  CHECK(failure(collect_sysstat(host.paths(), 100)).reason == "line 2: a key without a value");
}

TEST_CASE("os_ sysstat: meminfo, loadavg and clock ticks are checked") {
  TempHost host;
  host.write("proc/meminfo", "MemFree: 12 kB\n");
  CHECK(failure(collect_sysstat(host.paths(), 100)).reason == "no MemTotal");
  host.write("proc/meminfo", "MemTotal: -5 kB\n");
  CHECK(failure(collect_sysstat(host.paths(), 100)).file == host.file("proc/meminfo"));
  host.write("proc/meminfo", "MemTotal: 1024 kB\n");
  for (const char* loadavg : {"", "0.1 0.2 0.3\n", "0.1 0.2 0.3 4\n", "a b c 1/2 3\n", "0.1 0.2 0.3 1/x 3\n"}) {
    host.write("proc/loadavg", loadavg);
    CHECK_MESSAGE(failure(collect_sysstat(host.paths(), 100)).file == host.file("proc/loadavg"), loadavg);
  }
  host.write("proc/loadavg", "0.00 0.00 0.00 1/10 100\n");
  CHECK(failure(collect_sysstat(host.paths(), 0)).file == "sysconf(_SC_CLK_TCK)");
  // A counter beyond int64 is corrupt, not a reason to wrap into a negative value.
  host.write("proc/stat", "cpu  1 2 3 4\nctxt 9223372036854775808\n");
  CHECK(failure(collect_sysstat(host.paths(), 100)).reason.find("ctxt") != std::string::npos);
  host.write("proc/stat", "cpu  1 2 3 4\n");
  host.write("proc/meminfo", "MemTotal: 9007199254740993 kB\n");  // × 1024 overflows
  CHECK(failure(collect_sysstat(host.paths(), 100)).file == host.file("proc/meminfo"));
}

TEST_CASE("os_ disk_io: short or garbled lines and a missing /sys/block are errors") {
  TempHost host;
  host.write("sys/block/sda/dev", "8:0\n");
  host.write("proc/diskstats", "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n\n8 1 sda1 1 2 3\n");
  const auto short_line = failure(collect_disk_io(host.paths()));
  CHECK(short_line.file == host.file("proc/diskstats"));
  CHECK(short_line.reason.find("line 3") == 0);
  host.write("proc/diskstats", "8 0 sda 1 2 three 4 5 6 7 8 9 10 11\n");
  CHECK(failure(collect_disk_io(host.paths())).reason.find("read_bytes") != std::string::npos);
  host.remove("proc/diskstats");
  CHECK(failure(collect_disk_io(host.paths())).file == host.file("proc/diskstats"));
  fs::remove_all(host.file("sys/block"));
  host.write("proc/diskstats", "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n");
  CHECK(failure(collect_disk_io(host.paths())).file == host.file("sys/block"));
}

TEST_CASE("os_ disk_io: partitions are known by sysfs, not by name") {
  TempHost host;
  host.write("sys/block/sda/dev", "8:0\n");
  host.write("sys/block/cciss!c0d0/dev", "104:0\n");
  host.write("sys/block/sdz9/dev", "8:409\n");
  host.write("sys/class/block/sdz9/partition", "9\n");
  CHECK_FALSE(is_partition(host.paths(), "sda"));
  CHECK(is_partition(host.paths(), "sdz9"));        // a partition marker wins over /sys/block
  CHECK(is_partition(host.paths(), "sdb1"));        // not a top-level block device
  CHECK_FALSE(is_partition(host.paths(), "cciss/c0d0"));  // '/' is '!' in sysfs
  host.write("proc/diskstats",
             "8 0 sda 1 2 3 4 5 6 7 8 9 10 11\n104 0 cciss/c0d0 1 2 3 4 5 6 7 8 9 10 11\n"
             "1 0 ram0 1 2 3 4 5 6 7 8 9 10 11\n11 0 sr0 1 2 3 4 5 6 7 8 9 10 11\n");
  const auto sample = collect_disk_io(host.paths());
  REQUIRE(sample.has_value());
  REQUIRE(sample->rows.size() == 2);
  CHECK(std::get<std::string>(sample->rows[1][0]) == "cciss/c0d0");
}

TEST_CASE("os_ network: headers and interface lines are checked") {
  TempHost host;
  CHECK(failure(collect_network(host.paths())).file == host.file("proc/net/dev"));
  const std::string header = "Inter-| Receive | Transmit\n face |bytes packets|bytes packets\n";
  host.write("proc/net/dev", "only one line\n");
  CHECK(failure(collect_network(host.paths())).reason == "no header");
  host.write("proc/net/dev", header + "eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n");
  CHECK(failure(collect_network(host.paths())).reason.find("line 3") == 0);
  host.write("proc/net/dev", header + "eth0: 1 2 3\n");
  CHECK(failure(collect_network(host.paths())).reason.find("line 3") == 0);
  host.write("proc/net/dev", header + "eth0: 1 2 3 4 5 6 7 8 x 10 11 12 13 14 15 16\n");
  CHECK(failure(collect_network(host.paths())).reason.find("tx_bytes") != std::string::npos);
  host.write("proc/net/dev", header);
  const auto empty = collect_network(host.paths());
  REQUIRE(empty.has_value());
  CHECK(empty->rows.empty());
}

TEST_CASE("os_ disk_usage: the mount table is read from self/mounts, else mounts") {
  TempHost host;
  CHECK(failure(collect_disk_usage(host.paths())).file == host.file("proc/mounts"));
  host.write("proc/mounts", "/dev/sda1 /a ext4 rw 0 0\n");
  host.write("proc/self/mounts", "/dev/sdb1 /b ext4 rw 0 0\n");
  const auto mounts = read_mounts(host.paths());
  REQUIRE(mounts.has_value());
  REQUIRE(mounts->size() == 1);
  CHECK(mounts->front().mountpoint == "/b");
  host.write("proc/self/mounts", "/dev/sdb1 /b\n");
  CHECK(failure(read_mounts(host.paths())).reason.find("line 1") == 0);
}

TEST_CASE("os_ disk_usage: a failing statvfs costs only its mountpoint") {
  TempHost host;
  host.write("proc/self/mounts",
             "/dev/sda1 / ext4 rw 0 0\n//nas/share /mnt/nas cifs rw 0 0\n/dev/sdb1 /stale ext4 rw 0 0\n");
  const auto usage = collect_disk_usage(host.paths(), [](const char* path, struct statvfs* out) {
    if (std::string_view(path) == "/stale") {
      errno = ESTALE;
      return -1;
    }
    *out = {};
    out->f_frsize = 1, out->f_blocks = ~0UL;  // larger than an int64 can hold
    return 0;
  });
  REQUIRE(usage.has_value());
  CHECK(usage->sample.rows.empty());
  REQUIRE(usage->skipped.size() == 2);
  CHECK(usage->skipped[0].reason == "a statvfs figure is out of range");
  CHECK(usage->skipped[1].mountpoint == "/stale");
  CHECK(usage->skipped[1].reason == std::strerror(ESTALE));
}

TEST_CASE("os_ mount fields decode the kernel's octal escapes") {
  CHECK(decode_mount_field(R"(/srv/pg\040data)") == "/srv/pg data");
  CHECK(decode_mount_field(R"(a\011b\012c\134d)") == "a\tb\nc\\d");
  CHECK(decode_mount_field(R"(trailing\04)") == R"(trailing\04)");
  CHECK(decode_mount_field(R"(not\999octal)") == R"(not\999octal)");
}

TEST_CASE("os_ real filesystems: bind mounts and overmounts are counted once") {
  const std::vector<Mount> mounts = {
      {"/dev/sda2", "/", "ext4"},           {"tmpfs", "/run", "tmpfs"},
      {"/dev/sda2", "/home/bind", "ext4"},  {"/dev/sdb1", "/data", "xfs"},
      {"/dev/sdc1", "/data", "xfs"},        {"pool/ds", "/pool/ds", "zfs"},
      {"fs:/x", "/mnt/x", "nfs"},           {"/dev/sdd1", "/bb", "ext4"},
      {"/dev/sdd1", "/aa", "ext4"}};
  std::vector<std::string> kept;
  for (const auto& m : real_filesystems(mounts)) kept.push_back(m.device + " " + m.mountpoint);
  CHECK(kept == std::vector<std::string>{"/dev/sda2 /", "/dev/sdc1 /data", "pool/ds /pool/ds", "/dev/sdd1 /aa"});
}

TEST_CASE("os_ procfs primitives") {
  CHECK(split_fields("  a \t b\r\n") == std::vector<std::string_view>{"a", "b"});
  CHECK(split_fields(" \t ").empty());
  CHECK(split_lines("a\n\nb") == std::vector<std::string_view>{"a", "", "b"});
  CHECK(parse_int("42") == 42);
  for (const char* bad : {"", "-1", "+1", "1x", " 1", "9223372036854775808"}) CHECK_FALSE_MESSAGE(parse_int(bad), bad);
  CHECK(parse_double("0.75") == 0.75);
  CHECK_FALSE(parse_double("0.75x"));
  CHECK(scale(3, 512) == 1536);
  CHECK_FALSE(scale(INT64_MAX / 2 + 1, 2));
  CHECK(pga::rfc3339_utc(std::chrono::system_clock::time_point{std::chrono::milliseconds{1700000000123}}) ==
        "2023-11-14T22:13:20.123Z");
}
