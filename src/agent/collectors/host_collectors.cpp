// Adapts the OS readers to the Collector interface: an OsError becomes an exception the
// scheduler logs and counts, so one unreadable file never stops the other families.
#include "pganalytics/agent/collectors/host_collectors.hpp"

#include <functional>
#include <stdexcept>

#include "pganalytics/agent/collectors/os_disk_io.hpp"
#include "pganalytics/agent/collectors/os_disk_usage.hpp"
#include "pganalytics/agent/collectors/os_network.hpp"
#include "pganalytics/agent/collectors/os_sysstat.hpp"

namespace pga::agent::collectors {
namespace {

class HostCollector : public Collector {
 public:
  using Read = std::function<OsResult<metrics::Sample>(const HostPaths&)>;
  HostCollector(std::string family, HostPaths paths, Read read)
      : family_(std::move(family)), paths_(std::move(paths)), read_(std::move(read)) {}
  const std::string& family() const override { return family_; }
  const std::string& instance() const override { return no_instance_; }

  boost::asio::awaitable<std::vector<metrics::Sample>> collect() override {
    auto result = read_(paths_);
    if (!result) throw std::runtime_error(result.error().message());
    std::vector<metrics::Sample> samples;
    samples.push_back(std::move(*result));
    co_return samples;
  }

 private:
  std::string family_;
  HostPaths paths_;
  Read read_;
  std::string no_instance_;
};

OsResult<metrics::Sample> read_disk_usage(const HostPaths& paths) {
  auto usage = collect_disk_usage(paths);
  if (!usage) return usage.error();
  return std::move(usage->sample);
}

}  // namespace

std::vector<CollectorPtr> make_host_collectors(const HostPaths& paths) {
  std::vector<CollectorPtr> out;
  out.push_back(std::make_unique<HostCollector>("sysstat", paths,
                                                [](const HostPaths& p) { return collect_sysstat(p); }));
  out.push_back(std::make_unique<HostCollector>("disk_io", paths, collect_disk_io));
  out.push_back(std::make_unique<HostCollector>("network", paths, collect_network));
  out.push_back(std::make_unique<HostCollector>("disk_usage", paths, read_disk_usage));
  return out;
}

}  // namespace pga::agent::collectors
