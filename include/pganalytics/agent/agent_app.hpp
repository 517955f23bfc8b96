// `pganalytics agent`: schedules every collector on its interval, seals what they collect into
// batches in the durable spool, sends the spool oldest-first and follows the server's config.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>

#include "pganalytics/agent/credentials.hpp"
#include "pganalytics/common/agent_config.hpp"

namespace boost::asio {
class io_context;
}

namespace pga::agent {

// The agent's collectors, spool, sender and config poller on a caller's io_context (run by one
// thread: the runtime's coroutines share state without locks).
class AgentRuntime {
 public:
  AgentRuntime(boost::asio::io_context& io, AgentConfig config, StateFiles files, Credentials credentials);
  ~AgentRuntime();
  void start();
  // Seals what was collected so far into the spool, so a clean stop loses no sample.
  void seal_now();
  // Waits until the sender has emptied the spool, or `limit` has passed: lets a process that also
  // runs the server (the demo) deliver the last batch before stopping the server.
  boost::asio::awaitable<void> drain(std::chrono::milliseconds limit);

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

int run_agent(const AgentConfig& config);

}  // namespace pga::agent
