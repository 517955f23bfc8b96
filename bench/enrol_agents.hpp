// Enrolling the simulated agents exactly as `pganalytics register` does (agent::enrol: a new EC
// key, a CSR and the enrolment token over TLS 1.3), a few at a time, each in its own state dir.
#pragma once
#include <boost/asio/io_context.hpp>

#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace pga::bench {

struct EnrolledAgent {
  std::string collector_id;
  std::string access_token;
  std::string certificate_pem;
  std::string key_pem;
};

struct EnrolmentPlan {
  std::string server_url;
  std::string ca_pem;
  std::string token;  // one enrolment token with at least `agents` uses
  std::size_t agents = 0;
  std::size_t concurrency = 8;
  std::filesystem::path state_root;  // agent i keeps its files in state_root/agent-<i>
};

// Runs `io` until every agent is enrolled; throws on the first refusal or transport failure.
std::vector<EnrolledAgent> enrol_agents(boost::asio::io_context& io, const EnrolmentPlan& plan);

}  // namespace pga::bench
