// What the sender does with a server's answer (OK / RETRY / DROP, plus REFRESH for an expired
// access token), how long it waits before retrying, and when the certificate is renewed:
// I/O-free, so it is unit-tested alone.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>

namespace pga::agent {

enum class PushOutcome { Ok, Retry, Drop, Refresh };

// 2xx OK; 401 REFRESH; 408, 429 and 5xx RETRY; 403 with the error code "collector_disabled"
// RETRY too (an admin disabled this collector: the batch waits in the spool until they enable
// it again); any other 4xx DROP (the batch can never succeed).
PushOutcome classify_push_status(int status, std::string_view error_code = {});

// The "code" of a {"error":{"code","message"}} body; empty for any other body.
std::string error_code_of(std::string_view body);

// Retry-After in seconds (the HTTP-date form is not used by our server); nullopt if absent/bad.
std::optional<std::chrono::seconds> parse_retry_after(std::optional<std::string_view> header);

// Capped exponential backoff with full jitter: attempt n waits uniformly in [0, min(cap, base·2^n)],
// but never less than the server's Retry-After.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base = std::chrono::seconds(1),
          std::chrono::milliseconds cap = std::chrono::minutes(5), std::uint64_t seed = std::random_device{}());
  std::chrono::milliseconds next(std::optional<std::chrono::seconds> retry_after = std::nullopt);
  void reset() { attempt_ = 0; }
  int attempt() const { return attempt_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  int attempt_ = 0;
  std::mt19937_64 random_;
};

// Agents renew their client certificate once two thirds of its lifetime have passed.
bool certificate_renewal_due(std::int64_t not_before, std::int64_t not_after, std::int64_t now);

}  // namespace pga::agent
