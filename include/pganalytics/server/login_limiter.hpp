// Failed-login throttling: after a few failures for one user name from one address, further
// attempts are refused for a while, so passwords cannot be guessed at speed.
#pragma once
#include <chrono>
#include <map>
#include <mutex>
#include <string>

namespace pga::server {

class LoginLimiter {
 public:
  explicit LoginLimiter(int max_failures = 5, std::chrono::seconds window = std::chrono::minutes(15))
      : max_failures_(max_failures), window_(window) {}

  // Seconds the caller must wait before trying again; 0 when an attempt is allowed now.
  std::int64_t retry_after(const std::string& username, const std::string& address);
  void record_failure(const std::string& username, const std::string& address);
  void record_success(const std::string& username, const std::string& address);

 private:
  struct Entry {
    int failures = 0;
    std::chrono::steady_clock::time_point first_failure;
  };
  int max_failures_;
  std::chrono::seconds window_;
  std::mutex mutex_;
  std::map<std::string, Entry> entries_;
};

}  // namespace pga::server
