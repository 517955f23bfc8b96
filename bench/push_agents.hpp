// The measured phase: every enrolled agent pushes its pre-built batches over its own mTLS
// HttpsClient, paced over the interval (or back-to-back), retrying a seq until it is stored.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "enrol_agents.hpp"

namespace pga::bench {

using Clock = std::chrono::steady_clock;

struct PushSchedule {
  // Between one agent's batches; agent i starts at i·interval/agents. Zero: back-to-back.
  std::chrono::milliseconds interval{60'000};
  std::chrono::milliseconds duration{120'000};  // no batch starts later than this
  std::chrono::milliseconds grace{60'000};      // a started batch is retried until duration + grace
  std::chrono::milliseconds request_timeout{30'000};
  unsigned threads = 1;  // Asio threads; each agent's client lives on its own strand
};

struct AgentTally {
  std::vector<double> latencies_ms;  // send to 200, of every stored attempt
  std::uint64_t stored_seq = 0;      // seqs 1..stored_seq acknowledged (200 stored or duplicate)
  std::uint64_t duplicates = 0;      // 200 duplicate: an earlier attempt was stored, its answer lost
  std::uint64_t overloaded = 0;      // 503 answers, each retried after Retry-After
  std::uint64_t transport_errors = 0;
  std::uint64_t refused = 0;    // any other status: the agent stops (a bench or auth bug)
  std::uint64_t abandoned = 0;  // a batch still not stored at duration + grace
  std::string first_error;
  Clock::time_point last_ack{};
};

struct PushOutcome {
  std::vector<AgentTally> agents;
  Clock::time_point start;
};

// bodies[i] are agent i's gzip batches, seq 1 first. Returns when every agent is done.
PushOutcome push_all(const std::string& server_url, const std::string& ca_pem, const std::vector<EnrolledAgent>& agents,
                     std::vector<std::vector<std::string>> bodies, const PushSchedule& schedule);

}  // namespace pga::bench
