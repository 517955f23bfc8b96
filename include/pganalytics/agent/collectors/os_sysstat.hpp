// The `sysstat` family: one row of host-wide CPU, memory, swap, load and process figures read
// from /proc/stat, /proc/meminfo, /proc/vmstat and /proc/loadavg, each as the kernel reports it.
#pragma once
#include "pganalytics/agent/collectors/os_procfs.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

// USER_HZ, the unit of /proc/stat's CPU times (sysconf(_SC_CLK_TCK)).
long user_hz();

// CPU times in seconds (jiffies / clock_ticks), memory in bytes, swap in pages, boot_time as an
// RFC 3339 timestamp. Fields an older kernel lacks are NULL; a missing or malformed file is an
// error naming it.
OsResult<metrics::Sample> collect_sysstat(const HostPaths& paths = {}, long clock_ticks = user_hz());

}  // namespace pga::agent::collectors
