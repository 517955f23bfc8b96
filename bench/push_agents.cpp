// Each agent is one coroutine on its own strand: wait for its slot, push, and on 503 or a
// transport failure retry the same seq (as the real agent does) until it is stored or too late.
#include "push_agents.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <atomic>
#include <charconv>
#include <memory>
#include <mutex>
#include <thread>

#include "pganalytics/agent/enrolment.hpp"
#include "pganalytics/net/http_client.hpp"
#include "pganalytics/net/tls.hpp"

namespace pga::bench {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

constexpr auto kTransportRetryPause = 1s;
constexpr auto kMaxRetryAfter = 30s;
constexpr auto kReportEvery = 10s;
constexpr std::string_view kPushTarget = "/api/v1/metrics/push";
constexpr std::size_t kMaxErrorText = 300;

// Shared across strands, hence atomics: only the running totals the progress line prints.
struct Progress {
  std::size_t agents = 0;
  std::atomic<std::uint64_t> stored{0};
  std::atomic<std::uint64_t> overloaded{0};
  std::atomic<std::uint64_t> errors{0};
  std::atomic<std::size_t> finished{0};
  std::mutex crash_mutex;
  std::string crash;  // an unexpected exception out of an agent's coroutine

  void note_crash(std::exception_ptr error) {
    std::string what;
    try {
      std::rethrow_exception(error);
    } catch (const std::exception& e) {
      what = e.what();
    }
    const std::lock_guard lock(crash_mutex);
    if (crash.empty()) crash = what;
  }
};

struct AgentDone {
  Progress* progress;
  void operator()(std::exception_ptr error) const {
    if (error) progress->note_crash(error);
    ++progress->finished;
  }
};

struct PushingAgent {
  PushingAgent(asio::io_context& io, const agent::ServerAddress& server, const std::string& ca_pem,
               const EnrolledAgent& enrolled, std::vector<std::string> batches, Clock::duration start_offset)
      : strand(asio::make_strand(io)),
        tls(net::make_client_tls_context(ca_pem, enrolled.certificate_pem, enrolled.key_pem)),
        client(strand, tls, server.host, server.port),
        headers{{"Authorization", "Bearer " + enrolled.access_token},
                {"Content-Type", "application/json"},
                {"Content-Encoding", "gzip"}},
        bodies(std::move(batches)),
        phase(start_offset) {}

  asio::strand<asio::io_context::executor_type> strand;
  asio::ssl::context tls;
  net::HttpsClient client;
  net::Fields headers;
  std::vector<std::string> bodies;
  Clock::duration phase;
  AgentTally tally;
};

enum class Delivery { Stored, Refused, GaveUp };

asio::awaitable<void> sleep_until(Clock::time_point when) {
  auto executor = co_await asio::this_coro::executor;
  asio::steady_timer timer(executor, when);
  co_await timer.async_wait(asio::use_awaitable);
}

Clock::duration retry_after(const net::ClientResponse& response) {
  int seconds = 1;
  if (auto value = response.header("Retry-After")) std::from_chars(value->data(), value->data() + value->size(), seconds);
  return std::clamp<Clock::duration>(std::chrono::seconds(seconds), 0s, kMaxRetryAfter);
}

void note_error(AgentTally& tally, std::string text) {
  if (tally.first_error.empty()) tally.first_error = text.substr(0, kMaxErrorText);
}

asio::awaitable<Delivery> deliver(PushingAgent& agent, std::size_t index, const PushSchedule& schedule,
                                  Clock::time_point give_up, Progress& progress) {
  auto& tally = agent.tally;
  while (Clock::now() < give_up) {
    std::string method = "POST";
    std::string target(kPushTarget);
    std::string body = agent.bodies[index];
    net::Fields headers = agent.headers;
    Clock::duration pause = kTransportRetryPause;
    const auto sent = Clock::now();
    try {
      const auto response = co_await agent.client.request(std::move(method), std::move(target), std::move(body),
                                                          std::move(headers), false, schedule.request_timeout);
      const auto answered = Clock::now();
      if (response.status == 200) {
        tally.latencies_ms.push_back(std::chrono::duration<double, std::milli>(answered - sent).count());
        if (response.body.find("\"duplicate\"") != std::string::npos) ++tally.duplicates;
        tally.stored_seq = index + 1;
        tally.last_ack = answered;
        ++progress.stored;
        co_return Delivery::Stored;
      }
      if (response.status != 503) {
        ++tally.refused;
        ++progress.errors;
        note_error(tally, fmt::format("HTTP {}: {}", response.status, response.body));
        co_return Delivery::Refused;
      }
      ++tally.overloaded;
      ++progress.overloaded;
      pause = retry_after(response);
    } catch (const net::TransportError& error) {
      ++tally.transport_errors;
      ++progress.errors;
      note_error(tally, error.what());
    }
    const auto resume = Clock::now() + pause;
    co_await sleep_until(resume);
  }
  ++tally.abandoned;
  co_return Delivery::GaveUp;
}

asio::awaitable<void> push_agent(PushingAgent& agent, PushSchedule schedule, Clock::time_point start,
                                 Progress& progress) {
  const auto stop_starting = start + schedule.duration;
  const auto give_up = stop_starting + schedule.grace;
  for (std::size_t index = 0; index < agent.bodies.size(); ++index) {
    const auto due = start + agent.phase + schedule.interval * static_cast<long>(index);
    if (due > Clock::now()) co_await sleep_until(due);
    if (Clock::now() >= stop_starting) break;
    const auto delivery = co_await deliver(agent, index, schedule, give_up, progress);
    if (delivery != Delivery::Stored) break;
  }
}

asio::awaitable<void> report_progress(Progress& progress, Clock::time_point start) {
  auto next_report = start + kReportEvery;
  while (progress.finished < progress.agents) {
    const auto tick = Clock::now() + 1s;
    co_await sleep_until(tick);
    if (Clock::now() < next_report) continue;
    next_report += kReportEvery;
    fmt::print(stderr, "  {:>5.0f} s: {} batches stored, {} answered 503, {} errors, {}/{} agents done\n",
               std::chrono::duration<double>(Clock::now() - start).count(), progress.stored.load(),
               progress.overloaded.load(), progress.errors.load(), progress.finished.load(), progress.agents);
  }
}

}  // namespace

PushOutcome push_all(const std::string& server_url, const std::string& ca_pem, const std::vector<EnrolledAgent>& agents,
                     std::vector<std::vector<std::string>> bodies, const PushSchedule& schedule) {
  const auto server = agent::parse_server_url(server_url);
  asio::io_context io(static_cast<int>(schedule.threads));
  std::vector<std::unique_ptr<PushingAgent>> pushing;
  for (std::size_t i = 0; i < agents.size(); ++i) {
    const auto phase = schedule.interval * static_cast<long>(i) / static_cast<long>(agents.size());
    pushing.push_back(std::make_unique<PushingAgent>(io, server, ca_pem, agents[i], std::move(bodies[i]), phase));
  }
  Progress progress;
  progress.agents = pushing.size();
  PushOutcome outcome;
  outcome.start = Clock::now();
  for (auto& agent : pushing)
    asio::co_spawn(agent->strand, push_agent(*agent, schedule, outcome.start, progress), AgentDone{&progress});
  asio::co_spawn(io, report_progress(progress, outcome.start), asio::detached);
  {
    std::vector<std::jthread> helpers;  // joined at the end of this block
    for (unsigned t = 1; t < schedule.threads; ++t) helpers.emplace_back([&io] { io.run(); });
    io.run();
  }
  if (!progress.crash.empty()) throw std::runtime_error("a simulated agent failed: " + progress.crash);
  for (auto& agent : pushing) outcome.agents.push_back(std::move(agent->tally));
  return outcome;
}

}  // namespace pga::bench
