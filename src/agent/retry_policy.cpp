// Outcome classification and backoff for the sender (Fluent Bit's out_http rules).
#include "pganalytics/agent/retry_policy.hpp"

#include <boost/json/parse.hpp>

#include <algorithm>
#include <charconv>

namespace pga::agent {

PushOutcome classify_push_status(int status, std::string_view error_code) {
  if (status >= 200 && status < 300) return PushOutcome::Ok;
  if (status == 401) return PushOutcome::Refresh;
  if (status == 403 && error_code == "collector_disabled") return PushOutcome::Retry;
  if (status == 408 || status == 429 || status >= 500) return PushOutcome::Retry;
  if (status >= 400) return PushOutcome::Drop;
  return PushOutcome::Retry;
}

std::string error_code_of(std::string_view body) {
  boost::system::error_code ec;
  const auto value = boost::json::parse(body, ec);
  if (ec || !value.is_object()) return {};
  const auto* error = value.as_object().if_contains("error");
  if (!error || !error->is_object()) return {};
  const auto* code = error->as_object().if_contains("code");
  return code && code->is_string() ? std::string(code->as_string()) : std::string();
}

std::optional<std::chrono::seconds> parse_retry_after(std::optional<std::string_view> header) {
  if (!header) return std::nullopt;
  std::int64_t seconds = 0;
  auto [end, ec] = std::from_chars(header->data(), header->data() + header->size(), seconds);
  if (ec != std::errc{} || end != header->data() + header->size() || seconds < 0) return std::nullopt;
  return std::chrono::seconds(std::min<std::int64_t>(seconds, 3600));
}

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds cap, std::uint64_t seed)
    : base_(base), cap_(cap), random_(seed) {}

std::chrono::milliseconds Backoff::next(std::optional<std::chrono::seconds> retry_after) {
  const int exponent = std::min(attempt_, 30);
  ++attempt_;
  auto ceiling = std::min<std::int64_t>(cap_.count(), base_.count() << exponent);
  std::uniform_int_distribution<std::int64_t> pick(0, ceiling);
  std::chrono::milliseconds wait(pick(random_));
  if (retry_after) wait = std::max<std::chrono::milliseconds>(wait, *retry_after);
  return wait;
}

bool certificate_renewal_due(std::int64_t not_before, std::int64_t not_after, std::int64_t now) {
  return now >= not_before + (not_after - not_before) * 2 / 3;
}

}  // namespace pga::agent
