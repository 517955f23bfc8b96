// Non-blocking libpq on the Asio event loop: a connection whose socket is watched by a
// stream_descriptor, so a slow database never blocks a thread, and a bounded pool of them.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <string>
#include <vector>

#include "pganalytics/db/pg_connection.hpp"

namespace pga::db {

// The database cannot be used right now (down, unreachable, pool exhausted, timed out). The
// server answers 503 with Retry-After for it; the caller may retry later.
class DbUnavailable : public DbError {
  using DbError::DbError;
};

inline Param to_param(std::nullopt_t) { return std::nullopt; }
inline Param to_param(const Param& p) { return p; }
inline Param to_param(std::string_view s) { return std::string(s); }
inline Param to_param(const char* s) { return std::string(s); }
inline Param to_param(const std::string& s) { return s; }
template <typename T>
  requires std::is_arithmetic_v<T>
Param to_param(T value) {
  if constexpr (std::is_same_v<T, bool>) return std::string(value ? "true" : "false");
  else return std::to_string(value);
}
template <typename T>
  requires std::is_arithmetic_v<T>
Param to_param(const std::optional<T>& value) {
  if (!value) return std::nullopt;
  return to_param(*value);
}

class AsyncConnection {
 public:
  ~AsyncConnection();
  AsyncConnection(const AsyncConnection&) = delete;
  AsyncConnection& operator=(const AsyncConnection&) = delete;

  static boost::asio::awaitable<std::unique_ptr<AsyncConnection>> connect(boost::asio::any_io_executor executor,
                                                                          std::string conninfo,
                                                                          std::chrono::milliseconds timeout,
                                                                          std::string application_name = "pganalytics-server");

  // One parameterised statement. Throws DbError for SQL errors (the connection stays usable) and
  // DbUnavailable when the connection broke or the timeout passed (the connection is then dead).
  boost::asio::awaitable<PgResult> query(const char* sql, std::vector<Param> params = {},
                                         std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // The same with the parameters as arguments: strings, numbers, optionals (nullopt = NULL).
  // Prefer this inside coroutines: GCC 12 cannot keep a braced parameter list across co_await.
  template <typename... Args>
  boost::asio::awaitable<PgResult> exec(const char* sql, Args&&... args) {
    std::vector<Param> params;
    params.reserve(sizeof...(args));
    (params.push_back(to_param(std::forward<Args>(args))), ...);
    return query(sql, std::move(params));
  }
  // The same as exec, through a statement this connection prepares on first use: SQL run for
  // every request is parsed and analysed once per connection rather than each time. `sql` must
  // be fixed text, as it names the prepared statement.
  template <typename... Args>
  boost::asio::awaitable<PgResult> exec_prepared(const char* sql, Args&&... args) {
    std::vector<Param> params;
    params.reserve(sizeof...(args));
    (params.push_back(to_param(std::forward<Args>(args))), ...);
    return query_prepared(sql, std::move(params));
  }
  boost::asio::awaitable<PgResult> query_prepared(const char* sql, std::vector<Param> params,
                                                  std::chrono::milliseconds timeout = std::chrono::seconds(30));
  // COPY ... FROM STDIN with `data` in COPY text format.
  boost::asio::awaitable<void> copy_in(const std::string& copy_sql, std::string_view data,
                                       std::chrono::milliseconds timeout = std::chrono::seconds(60));
  // Usable and outside any transaction: what a pool may hand out again.
  bool healthy() const;
  // The session is up, though perhaps inside a transaction (that a ROLLBACK can end).
  bool connected() const;
  // Ends the session and waits, at most `timeout`, until the server has closed its end. A
  // backend leaves pg_stat_activity and stops counting against connection limits before it
  // closes its socket, so a connection opened after close() never overlaps this one on the
  // server. Never throws; the connection is unusable afterwards.
  boost::asio::awaitable<void> close(std::chrono::milliseconds timeout);

 private:
  struct Impl;
  explicit AsyncConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A fixed number of connections, opened on demand and replaced when they break. acquire() waits
// for a free one up to a bound and throws DbUnavailable past it, so load turns into 503s rather
// than unbounded queues.
class PgPool : public std::enable_shared_from_this<PgPool> {
 public:
  class Lease {
   public:
    Lease(std::shared_ptr<PgPool> pool, std::unique_ptr<AsyncConnection> conn);
    Lease(Lease&&) noexcept = default;
    Lease& operator=(Lease&&) noexcept = default;
    ~Lease();
    AsyncConnection* operator->() { return conn_.get(); }
    AsyncConnection& operator*() { return *conn_; }

   private:
    std::shared_ptr<PgPool> pool_;
    std::unique_ptr<AsyncConnection> conn_;
  };

  static std::shared_ptr<PgPool> create(boost::asio::any_io_executor executor, std::string conninfo,
                                        std::size_t size);
  boost::asio::awaitable<Lease> acquire(std::chrono::milliseconds wait = std::chrono::seconds(5));
  std::size_t size() const { return size_; }
  bool last_connect_failed() const;

 private:
  PgPool(boost::asio::any_io_executor executor, std::string conninfo, std::size_t size);
  void give_back(std::unique_ptr<AsyncConnection> conn);

  boost::asio::any_io_executor executor_;
  std::string conninfo_;
  std::size_t size_;
  mutable std::mutex mutex_;
  std::deque<std::unique_ptr<AsyncConnection>> idle_;
  std::size_t in_use_ = 0;
  bool last_connect_failed_ = false;
};

// Runs BEGIN ... COMMIT around `body`, rolling back if it throws.
template <typename Body>
boost::asio::awaitable<void> in_transaction(AsyncConnection& conn, Body body) {
  co_await conn.query("BEGIN");
  std::exception_ptr failure;
  try {
    co_await body();
  } catch (...) {
    failure = std::current_exception();
  }
  if (failure) {
    // Not healthy(): inside the transaction the connection never is. Rolled back here, it can
    // serve the caller's next statement, not only a fresh lease.
    if (conn.connected()) {
      try {
        co_await conn.query("ROLLBACK");
      } catch (...) {
        // The original failure is what the caller needs to see.
      }
    }
    std::rethrow_exception(failure);
  }
  co_await conn.query("COMMIT");
}

}  // namespace pga::db
