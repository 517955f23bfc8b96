// Sign-in throttling kept in the database, so every replica shares it (issue 11.1): each
// attempt is counted before its password is checked, atomically, against a budget per user
// name, per client address (IPv6 addresses per /64, the block one host usually holds) and for
// all addresses together. A success gives its attempt back.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "pganalytics/common/server_config.hpp"
#include "pganalytics/db/async_pg.hpp"

namespace pga::server {

class LoginLimiter {
 public:
  LoginLimiter() = default;
  explicit LoginLimiter(LoginBudgets budgets) : budgets_(budgets) {}

  // Counts the attempt; 0 when it may go on to the password check, else the seconds to wait.
  boost::asio::awaitable<std::int64_t> take_attempt(db::AsyncConnection& conn, const std::string& username,
                                                    const std::string& remote_address) const;
  boost::asio::awaitable<void> succeeded(db::AsyncConnection& conn, const std::string& username,
                                         const std::string& remote_address) const;
  const LoginBudgets& budgets() const { return budgets_; }

 private:
  LoginBudgets budgets_;
};

}  // namespace pga::server
