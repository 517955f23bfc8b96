// The `disk_usage` family: the mount table filtered to real filesystems, then one statvfs each.
// A mountpoint that cannot be measured (no permission, stale NFS) is reported, never thrown.
#include "pganalytics/agent/collectors/os_disk_usage.hpp"

#include <fmt/format.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <unordered_map>

namespace pga::agent::collectors {
namespace {

constexpr std::array<std::string_view, 10> kColumns = {
    "mountpoint", "device", "fstype", "size_bytes", "used_bytes", "free_bytes", "available_bytes",
    "inodes_total", "inodes_used", "inodes_free"};

// Disk filesystems kept even when the mount source is not a /dev path: ZFS datasets ("tank/data"),
// or a root device a container shows by a bare name.
constexpr std::array<std::string_view, 12> kRealTypes = {
    "ext2", "ext3", "ext4", "xfs", "btrfs", "zfs", "f2fs", "vfat", "exfat", "ntfs", "reiserfs", "jfs"};

// Which of two mountpoints of one device to report: the shorter; between equals the first
// alphabetically, so that the choice never depends on hash order.
bool preferred(std::string_view a, std::string_view b) { return a.size() != b.size() ? a.size() < b.size() : a < b; }

bool is_octal(char c) { return c >= '0' && c <= '7'; }

bool is_real(const Mount& mount) {
  if (mount.device.starts_with("/dev/")) return true;
  for (auto type : kRealTypes)
    if (mount.fstype == type) return true;
  return false;
}

std::optional<std::int64_t> to_int64(unsigned long long value) {
  if (value > static_cast<unsigned long long>(INT64_MAX)) return std::nullopt;
  return static_cast<std::int64_t>(value);
}

// size, used, free, available, inodes total, used, free — or nullopt if a figure overflows.
std::optional<metrics::Row> usage_cells(const struct statvfs& fs) {
  const auto frsize = to_int64(fs.f_frsize);
  const auto blocks = to_int64(fs.f_blocks), bfree = to_int64(fs.f_bfree), bavail = to_int64(fs.f_bavail);
  const auto files = to_int64(fs.f_files), ffree = to_int64(fs.f_ffree);
  if (!frsize || !blocks || !bfree || !bavail || !files || !ffree) return std::nullopt;
  const auto size = scale(*blocks, *frsize), free = scale(*bfree, *frsize), available = scale(*bavail, *frsize);
  if (!size || !free || !available) return std::nullopt;
  return metrics::Row{*size, *size - *free, *free, *available, *files, *files - *ffree, *ffree};
}

OsResult<std::vector<Mount>> parse_mounts(const std::string& file, std::string_view text) {
  std::vector<Mount> mounts;
  const auto lines = split_lines(text);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto fields = split_fields(lines[i]);
    if (fields.empty()) continue;
    if (fields.size() < 3) return OsError{file, fmt::format("line {}: expected 'device mountpoint fstype ...'", i + 1)};
    mounts.push_back({decode_mount_field(fields[0]), decode_mount_field(fields[1]), decode_mount_field(fields[2])});
  }
  return mounts;
}

}  // namespace

std::string decode_mount_field(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size() && is_octal(field[i + 1]) &&
        is_octal(field[i + 2]) && is_octal(field[i + 3])) {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 + (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

OsResult<std::vector<Mount>> read_mounts(const HostPaths& paths) {
  const auto self = paths.proc_root / "self" / "mounts";
  std::error_code ec;
  const auto file = (std::filesystem::exists(self, ec) ? self : paths.proc_root / "mounts").string();
  const auto text = read_text(file);
  if (!text) return text.error();
  return parse_mounts(file, *text);
}

std::vector<Mount> real_filesystems(const std::vector<Mount>& mounts) {
  std::unordered_map<std::string_view, std::size_t> top_at;  // mountpoint → its last mount
  for (std::size_t i = 0; i < mounts.size(); ++i)
    if (is_real(mounts[i])) top_at[mounts[i].mountpoint] = i;
  std::unordered_map<std::string_view, std::size_t> chosen;  // device → its shortest mountpoint
  for (const auto& [mountpoint, i] : top_at) {
    auto [it, inserted] = chosen.try_emplace(mounts[i].device, i);
    if (!inserted && preferred(mountpoint, mounts[it->second].mountpoint)) it->second = i;
  }
  std::vector<bool> keep(mounts.size());
  for (const auto& [device, i] : chosen) keep[i] = true;
  std::vector<Mount> out;
  for (std::size_t i = 0; i < mounts.size(); ++i)
    if (keep[i]) out.push_back(mounts[i]);
  return out;
}

OsResult<DiskUsage> collect_disk_usage(const HostPaths& paths, const StatvfsFn& stat_fs) {
  auto mounts = read_mounts(paths);
  if (!mounts) return mounts.error();
  DiskUsage usage{host_sample("disk_usage", kColumns), {}};
  for (const auto& mount : real_filesystems(*mounts)) {
    struct statvfs fs {};
    errno = 0;
    if (stat_fs(mount.mountpoint.c_str(), &fs) != 0) {
      usage.skipped.push_back({mount.mountpoint, std::strerror(errno)});
      continue;
    }
    auto cells = usage_cells(fs);
    if (!cells) {
      usage.skipped.push_back({mount.mountpoint, "a statvfs figure is out of range"});
      continue;
    }
    metrics::Row row{mount.mountpoint, mount.device, mount.fstype};
    row.insert(row.end(), cells->begin(), cells->end());
    usage.sample.rows.push_back(std::move(row));
  }
  return usage;
}

}  // namespace pga::agent::collectors
