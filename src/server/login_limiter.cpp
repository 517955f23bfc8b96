// Per (user name, address) failure counting within a sliding window, in memory. Each replica
// counts on its own, which still bounds the guessing rate by the number of replicas.
#include "pganalytics/server/login_limiter.hpp"

namespace pga::server {
namespace {
std::string key_of(const std::string& username, const std::string& address) { return username + '\n' + address; }
}  // namespace

std::int64_t LoginLimiter::retry_after(const std::string& username, const std::string& address) {
  std::lock_guard lock(mutex_);
  auto it = entries_.find(key_of(username, address));
  if (it == entries_.end()) return 0;
  auto elapsed = std::chrono::steady_clock::now() - it->second.first_failure;
  if (elapsed >= window_) {
    entries_.erase(it);
    return 0;
  }
  if (it->second.failures < max_failures_) return 0;
  return std::chrono::duration_cast<std::chrono::seconds>(window_ - elapsed).count() + 1;
}

void LoginLimiter::record_failure(const std::string& username, const std::string& address) {
  std::lock_guard lock(mutex_);
  if (entries_.size() > 100'000) entries_.clear();  // a flood of names must not grow memory without bound
  auto& entry = entries_[key_of(username, address)];
  if (entry.failures == 0) entry.first_failure = std::chrono::steady_clock::now();
  ++entry.failures;
}

void LoginLimiter::record_success(const std::string& username, const std::string& address) {
  std::lock_guard lock(mutex_);
  entries_.erase(key_of(username, address));
}

}  // namespace pga::server
