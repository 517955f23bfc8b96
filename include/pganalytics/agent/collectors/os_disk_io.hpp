// The `disk_io` family: one row per whole block device from /proc/diskstats, so that summing
// rows never counts a partition's I/O twice; loop, ram, zram, floppy and optical devices skipped.
#pragma once
#include <string_view>

#include "pganalytics/agent/collectors/os_procfs.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

// A partition, to sysfs: it has <sys_root>/class/block/<name>/partition, or it is not a
// top-level entry of <sys_root>/block.
bool is_partition(const HostPaths& paths, std::string_view device);

// Sectors are 512 bytes whatever the device's block size (the kernel's unit for diskstats).
// Discard and flush figures are NULL on kernels whose lines lack them (before 4.18 and 5.5).
OsResult<metrics::Sample> collect_disk_io(const HostPaths& paths = {});

}  // namespace pga::agent::collectors
