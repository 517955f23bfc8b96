// Bounded-concurrency enrolment: `concurrency` worker coroutines take the next agent index in
// turn, so the server sees a steady trickle rather than a thousand handshakes at once.
#include "enrol_agents.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_future.hpp>

#include <fmt/format.h>

#include <future>

#include "pganalytics/agent/enrolment.hpp"

namespace pga::bench {
namespace {

namespace asio = boost::asio;

struct EnrolmentQueue {
  const EnrolmentPlan& plan;
  std::vector<EnrolledAgent>& enrolled;
  std::size_t next = 0;  // only touched from the one thread running the io_context
};

agent::EnrolmentRequest request_for(const EnrolmentPlan& plan, std::size_t index) {
  agent::EnrolmentRequest request;
  request.server_url = plan.server_url;
  request.token = plan.token;
  request.name = fmt::format("bench-agent-{:04}", index);
  request.hostname = fmt::format("bench-host-{:04}.example", index);
  request.ca_pem = plan.ca_pem;
  request.files.dir = plan.state_root / fmt::format("agent-{:04}", index);
  std::filesystem::create_directories(request.files.dir);
  return request;
}

asio::awaitable<void> enrol_worker(asio::any_io_executor executor, EnrolmentQueue& queue) {
  while (queue.next < queue.plan.agents) {
    const std::size_t index = queue.next++;
    auto request = request_for(queue.plan, index);
    const auto files = request.files;
    // agent::enrol bounds its one request with the HTTPS client's 30 s deadline.
    auto credentials = co_await agent::enrol(executor, std::move(request));
    queue.enrolled[index] = EnrolledAgent{credentials.collector_id, credentials.access_token,
                                          agent::read_text_file(files.certificate()), agent::read_text_file(files.key())};
  }
}

}  // namespace

std::vector<EnrolledAgent> enrol_agents(asio::io_context& io, const EnrolmentPlan& plan) {
  std::vector<EnrolledAgent> enrolled(plan.agents);
  EnrolmentQueue queue{plan, enrolled};
  std::vector<std::future<void>> workers;
  for (std::size_t i = 0; i < std::min(plan.concurrency, plan.agents); ++i)
    workers.push_back(asio::co_spawn(io, enrol_worker(io.get_executor(), queue), asio::use_future));
  io.restart();
  io.run();
  for (auto& worker : workers) worker.get();  // rethrows the first failure
  return enrolled;
}

}  // namespace pga::bench
