// The budgets themselves are counted by pganalytics.login_attempt (migration 0006): one
// statement per attempt, each budget row updated atomically, so parallel attempts (one replica
// or several) can never together pass a budget.
#include "pganalytics/server/login_limiter.hpp"

#include "pganalytics/net/address_key.hpp"
#include "pganalytics/server/session_repository.hpp"

namespace pga::server {

boost::asio::awaitable<std::int64_t> LoginLimiter::take_attempt(db::AsyncConnection& conn,
                                                                const std::string& username,
                                                                const std::string& remote_address) const {
  co_return co_await repo::take_login_attempt(conn, username, net::address_key(remote_address), budgets_);
}

boost::asio::awaitable<void> LoginLimiter::succeeded(db::AsyncConnection& conn, const std::string& username,
                                                     const std::string& remote_address) const {
  co_await repo::login_succeeded(conn, username, net::address_key(remote_address));
}

}  // namespace pga::server
