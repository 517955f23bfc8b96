// The sender's decisions: which answers are retried, dropped or trigger a token refresh, and
// the backoff's bounds.
#include <doctest/doctest.h>

#include "pganalytics/agent/retry_policy.hpp"

using namespace pga::agent;
using namespace std::chrono_literals;

TEST_CASE("server answers map to OK, RETRY, DROP or REFRESH") {
  CHECK(classify_push_status(200) == PushOutcome::Ok);
  CHECK(classify_push_status(401) == PushOutcome::Refresh);
  for (int status : {408, 429, 500, 502, 503, 504}) CHECK(classify_push_status(status) == PushOutcome::Retry);
  for (int status : {400, 403, 404, 409, 413, 415, 422}) CHECK(classify_push_status(status) == PushOutcome::Drop);
}

TEST_CASE("a disabled collector keeps its batches: 403 collector_disabled is retried, other 403s dropped") {
  const std::string disabled = R"({"error":{"code":"collector_disabled","message":"this collector is disabled"}})";
  CHECK(error_code_of(disabled) == "collector_disabled");
  CHECK(classify_push_status(403, error_code_of(disabled)) == PushOutcome::Retry);
  CHECK(classify_push_status(403, "identity_mismatch") == PushOutcome::Drop);
  CHECK(classify_push_status(400, "collector_disabled") == PushOutcome::Drop);
  CHECK(error_code_of("not json").empty());
  CHECK(error_code_of(R"({"error":"x"})").empty());
}

TEST_CASE("Retry-After is read as seconds and capped") {
  CHECK(parse_retry_after(std::string_view("5")) == 5s);
  CHECK(parse_retry_after(std::string_view("999999")) == 3600s);
  CHECK_FALSE(parse_retry_after(std::string_view("soon")));
  CHECK_FALSE(parse_retry_after(std::string_view("-1")));
  CHECK_FALSE(parse_retry_after(std::nullopt));
}

TEST_CASE("backoff grows to its cap with full jitter and honours Retry-After") {
  Backoff backoff(1000ms, 300'000ms, 42);
  std::chrono::milliseconds largest{0};
  for (int attempt = 0; attempt < 40; ++attempt) {
    auto wait = backoff.next();
    CHECK(wait >= 0ms);
    CHECK(wait <= std::min<std::chrono::milliseconds>(300'000ms, 1000ms * (1LL << std::min(attempt, 30))));
    largest = std::max(largest, wait);
  }
  CHECK(largest > 60'000ms);  // with 40 draws near the cap, at least one is large
  backoff.reset();
  CHECK(backoff.next() <= 1000ms);
  CHECK(backoff.next(30s) >= 30'000ms);
}

TEST_CASE("the client certificate is renewed at two thirds of its lifetime") {
  const std::int64_t issued = 1'000'000, expires = issued + 30 * 86'400;
  CHECK_FALSE(certificate_renewal_due(issued, expires, issued));
  CHECK_FALSE(certificate_renewal_due(issued, expires, issued + 20 * 86'400 - 1));
  CHECK(certificate_renewal_due(issued, expires, issued + 20 * 86'400));
  CHECK(certificate_renewal_due(issued, expires, expires + 1));
}
