// The budgets themselves are counted by pganalytics.login_attempt (migration 0006): one
// statement per attempt, each budget row updated atomically, so parallel attempts (one replica
// or several) can never together pass a budget.
#include "pganalytics/server/login_limiter.hpp"

#include <boost/asio/ip/address.hpp>

#include "pganalytics/server/session_repository.hpp"

namespace pga::server {

std::string address_budget_key(std::string_view remote_address) {
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(remote_address, ec);
  if (ec) return std::string(remote_address);
  if (address.is_v4()) return address.to_string();
  auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  std::fill(bytes.begin() + 8, bytes.end(), 0);
  return boost::asio::ip::address_v6(bytes).to_string() + "/64";
}

boost::asio::awaitable<std::int64_t> LoginLimiter::take_attempt(db::AsyncConnection& conn,
                                                                const std::string& username,
                                                                const std::string& remote_address) const {
  co_return co_await repo::take_login_attempt(conn, username, address_budget_key(remote_address), budgets_);
}

boost::asio::awaitable<void> LoginLimiter::succeeded(db::AsyncConnection& conn, const std::string& username,
                                                     const std::string& remote_address) const {
  co_await repo::login_succeeded(conn, username, address_budget_key(remote_address));
}

}  // namespace pga::server
