// Password hashing (argon2id, tens of milliseconds and 19 MiB each) on threads of its own, apart
// from the pool that parses pushes, with a bound on the checks running or waiting: a login flood
// then costs at most those threads and answers 429 beyond the bound, while pushes keep their
// pool and their latency (issue 11.4). The threads run at a lower CPU priority (nice 5) so that,
// on a busy machine, the scheduler favours the threads serving agents.
#pragma once
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/executor_work_guard.hpp>

#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace pga::server {

class PasswordHasher {
 public:
  PasswordHasher(std::size_t threads, std::size_t max_pending);
  ~PasswordHasher();
  PasswordHasher(const PasswordHasher&) = delete;
  PasswordHasher& operator=(const PasswordHasher&) = delete;

  // Throw net::ApiError 429 (Retry-After: 1) when max_pending checks are already running or
  // waiting; otherwise run on the hashing threads and resume the caller on its own executor.
  boost::asio::awaitable<bool> verify(std::string password, std::string encoded);
  boost::asio::awaitable<std::string> hash(std::string password);

  std::uint64_t verifications() const { return verifications_.load(); }
  std::uint64_t refused() const { return refused_.load(); }
  std::size_t pending() const { return pending_.load(); }

 private:
  // Counts a pending check for as long as it lives.
  struct Ticket {
    PasswordHasher* hasher;
    ~Ticket() { --hasher->pending_; }
  };
  Ticket take_ticket();

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
  std::vector<std::thread> threads_;
  std::size_t max_pending_;
  std::atomic<std::size_t> pending_{0};
  std::atomic<std::uint64_t> verifications_{0};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace pga::server
