// The host families (sysstat, disk_io, network, disk_usage) as Collectors over the /proc and
// statvfs readers of os_*.hpp.
#pragma once
#include <vector>

#include "pganalytics/agent/collector.hpp"
#include "pganalytics/agent/collectors/os_procfs.hpp"

namespace pga::agent::collectors {

std::vector<CollectorPtr> make_host_collectors(const HostPaths& paths = {});

}  // namespace pga::agent::collectors
