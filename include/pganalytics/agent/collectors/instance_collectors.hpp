// Every collector of one monitored PostgreSQL instance, assembled from its [[instance]] block:
// the one place that decides which families an instance gets and what they share.
#pragma once
#include <boost/asio/any_io_executor.hpp>

#include <filesystem>
#include <vector>

#include "pganalytics/agent/collector.hpp"
#include "pganalytics/common/agent_config.hpp"
#include "pganalytics/metrics/query_text.hpp"

namespace pga::agent::collectors {

struct InstanceEnvironment {
  boost::asio::any_io_executor executor;
  std::filesystem::path state_dir;  // collectors that keep a position (the log) store it below
  // Where pg_statements leaves query texts; the runtime owns it and moves it into the next batch.
  std::vector<metrics::QueryText>& query_texts;
};

std::vector<CollectorPtr> make_instance_collectors(const InstanceConfig& instance, const InstanceEnvironment& env);

}  // namespace pga::agent::collectors
