// The `network` family: one row per network interface from /proc/net/dev, loopback excluded
// because its traffic never leaves the host.
#pragma once
#include "pganalytics/agent/collectors/os_procfs.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

// Byte, packet, error and drop counters in each direction, cumulative as the kernel keeps them.
OsResult<metrics::Sample> collect_network(const HostPaths& paths = {});

}  // namespace pga::agent::collectors
