// The `disk_usage` family: bytes and inodes of every real filesystem, one row per filesystem
// (not per mount), from the mount table and statvfs — what df shows, without running df.
#pragma once
#include <sys/statvfs.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "pganalytics/agent/collectors/os_procfs.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

struct Mount {
  std::string device;  // the mount source: /dev/sda1, tank/data, ...
  std::string mountpoint;
  std::string fstype;
};

// The mount table of <proc_root>/self/mounts, or <proc_root>/mounts where there is no self,
// with the octal escapes (\040 for a space) decoded.
OsResult<std::vector<Mount>> read_mounts(const HostPaths& paths = {});

// "\040" → " ": the kernel escapes space, tab, newline and backslash in mount fields.
std::string decode_mount_field(std::string_view field);

// Mounts of block devices or of known disk filesystem types, once per device: an overmounted
// mountpoint counts as its last mount, a device mounted (or bind-mounted) at several places as
// its shortest mountpoint. Mount-table order is kept.
std::vector<Mount> real_filesystems(const std::vector<Mount>& mounts);

// Same contract as ::statvfs: 0, or -1 with errno set. Tests substitute a fixture.
using StatvfsFn = std::function<int(const char* path, struct statvfs* out)>;

struct SkippedMount {
  std::string mountpoint;
  std::string reason;  // strerror of the failed statvfs (EACCES, ESTALE, ...)
};

struct DiskUsage {
  metrics::Sample sample;
  std::vector<SkippedMount> skipped;  // for the caller to log; they do not stop the others
};

// An error only when the mount table itself cannot be read or parsed.
OsResult<DiskUsage> collect_disk_usage(const HostPaths& paths = {}, const StatvfsFn& stat_fs = ::statvfs);

}  // namespace pga::agent::collectors
