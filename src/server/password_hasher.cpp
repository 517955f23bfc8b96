// The hashing threads. Work is handed over with co_spawn onto their io_context; the awaiting
// handler resumes on its own executor afterwards, so no request code ever runs here.
#include "pganalytics/server/password_hasher.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "pganalytics/net/http.hpp"
#include "pganalytics/security/password.hpp"

namespace pga::server {
namespace {

constexpr int kNiceness = 5;

boost::asio::awaitable<bool> verify_task(std::string password, std::string encoded) {
  co_return security::verify_password(password, encoded);
}

boost::asio::awaitable<std::string> hash_task(std::string password) {
  co_return security::argon2id_hash_encoded(password);
}

}  // namespace

PasswordHasher::PasswordHasher(std::size_t threads, std::size_t max_pending)
    : work_(io_.get_executor()), max_pending_(max_pending) {
  for (std::size_t i = 0; i < threads; ++i)
    threads_.emplace_back([this] {
      // Per thread on Linux (a thread is a task with its own nice value); failure is harmless.
      (void)setpriority(PRIO_PROCESS, static_cast<id_t>(::syscall(SYS_gettid)), kNiceness);
      io_.run();
    });
}

PasswordHasher::~PasswordHasher() {
  work_.reset();
  io_.stop();
  for (auto& thread : threads_) thread.join();
}

PasswordHasher::Ticket PasswordHasher::take_ticket() {
  if (++pending_ > max_pending_) {
    --pending_;
    ++refused_;
    throw net::ApiError(429, "too_many_sign_ins", "too many sign-ins are being checked right now; retry shortly")
        .with_header("Retry-After", "1");
  }
  return Ticket{this};
}

boost::asio::awaitable<bool> PasswordHasher::verify(std::string password, std::string encoded) {
  const auto ticket = take_ticket();
  ++verifications_;
  co_return co_await boost::asio::co_spawn(io_, verify_task(std::move(password), std::move(encoded)),
                                           boost::asio::use_awaitable);
}

boost::asio::awaitable<std::string> PasswordHasher::hash(std::string password) {
  const auto ticket = take_ticket();
  co_return co_await boost::asio::co_spawn(io_, hash_task(std::move(password)), boost::asio::use_awaitable);
}

}  // namespace pga::server
