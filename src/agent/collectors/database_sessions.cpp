// DatabaseSessions: a connection per database, reused while it is the one asked for; the least
// recently used idle one closed to make room; none left idle long enough to block DROP DATABASE.
#include "pganalytics/agent/collectors/database_sessions.hpp"

#include <libpq-fe.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "pganalytics/common/log.hpp"

namespace pga::agent::collectors {
namespace {

using Clock = std::chrono::steady_clock;

constexpr auto kWaitForConnection = std::chrono::seconds(30);
// Connections stay open across collections: a new backend must first load the catalog entry of
// every table it sizes, which costs a database of 1,000 tables three times the read itself. Like
// any monitoring connection this makes a plain DROP DATABASE of a monitored database fail while
// the agent runs (DROP DATABASE ... WITH (FORCE) ends the agent's session; it reconnects).
constexpr auto kIdleLimit = std::chrono::minutes(5);
constexpr auto kIdleCheck = std::chrono::seconds(1);
// How long a closed connection's backend may take to exit before the slot is reused anyway.
constexpr auto kCloseWait = std::chrono::milliseconds(1000);

// libpq's keyword=value quoting: single quotes, with backslash before ' and \.
std::string quoted_value(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  out += '\'';
  return out;
}

}  // namespace

std::size_t database_connection_budget(std::int64_t max_connections) {
  return static_cast<std::size_t>(std::max<std::int64_t>(1, max_connections - 1));
}

std::string conninfo_with_dbname(const std::string& conninfo, const std::string& dbname) {
  char* error = nullptr;
  std::unique_ptr<PQconninfoOption, decltype(&PQconninfoFree)> options(PQconninfoParse(conninfo.c_str(), &error),
                                                                        PQconninfoFree);
  if (!options) {
    std::string message = error ? error : "out of memory";
    PQfreemem(error);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    throw std::invalid_argument("invalid conninfo: " + log::redact(message));
  }
  std::string out = "dbname=" + quoted_value(dbname);
  for (const auto* option = options.get(); option->keyword; ++option) {
    if (!option->val || std::string_view(option->keyword) == "dbname") continue;
    out += ' ';
    out += option->keyword;
    out += '=';
    out += quoted_value(option->val);
  }
  return out;
}

struct DatabaseSessions::Waiter {
  std::string dbname;
  boost::asio::steady_timer* wake;
};

// Marks a slot free again when the statement using it ends, however it ends.
class DatabaseSessions::ReleaseOnExit {
 public:
  ReleaseOnExit(DatabaseSessions& owner, Slot slot) : owner_(owner), slot_(slot) {}
  ReleaseOnExit(const ReleaseOnExit&) = delete;
  ReleaseOnExit& operator=(const ReleaseOnExit&) = delete;
  ~ReleaseOnExit() { owner_.release(slot_); }

 private:
  DatabaseSessions& owner_;
  Slot slot_;
};

// Lists a waiting request (so its database is not closed under it) for as long as it waits.
class DatabaseSessions::Waiting {
 public:
  Waiting(std::list<Waiter>& waiters, std::string dbname, boost::asio::steady_timer& wake) : waiters_(waiters) {
    waiters_.push_back(Waiter{std::move(dbname), &wake});
    entry_ = std::prev(waiters_.end());
  }
  Waiting(const Waiting&) = delete;
  Waiting& operator=(const Waiting&) = delete;
  ~Waiting() { waiters_.erase(entry_); }

 private:
  std::list<Waiter>& waiters_;
  std::list<Waiter>::iterator entry_;
};

DatabaseSessions::DatabaseSessions(boost::asio::any_io_executor executor, std::shared_ptr<PgSession> main,
                                   std::string conninfo, std::size_t budget)
    : executor_(std::move(executor)), main_(std::move(main)), conninfo_(std::move(conninfo)), budget_(budget) {}

DatabaseSessions::~DatabaseSessions() = default;

boost::asio::awaitable<std::vector<std::string>> DatabaseSessions::databases() {
  auto result = co_await main_->query(
      "SELECT datname, has_database_privilege(oid, 'CONNECT') AS may_connect FROM pg_database "
      "WHERE datallowconn AND NOT datistemplate ORDER BY datname");
  std::vector<std::string> names;
  for (int row = 0; row < result.rows(); ++row) {
    std::string name(result.get(row, 0));
    if (result.get(row, 1) == "t")
      names.push_back(std::move(name));
    else if (reported_without_connect_.insert(name).second)
      log::warn("instance {}: database \"{}\" is not read: the agent's role lacks CONNECT on it", instance(), name);
  }
  co_return names;
}

boost::asio::awaitable<db::PgResult> DatabaseSessions::query(std::string dbname, std::string sql,
                                                             std::vector<db::Param> params) {
  // Awaitables are bound to names first: GCC 12 mishandles non-trivial temporaries in co_await.
  auto waiting = wait_for_slot(dbname);
  Taken taken = co_await std::move(waiting);
  const Slot slot = taken.slot;
  ReleaseOnExit release_on_exit(*this, slot);
  if (taken.evicted) {
    auto closing = taken.evicted->close(kCloseWait);
    co_await std::move(closing);
  }
  std::optional<db::PgResult> result;
  std::exception_ptr failure;
  try {
    if (!slot->conn) {
      auto opening = open_agent_connection(executor_, conninfo_with_dbname(conninfo_, dbname));
      slot->conn = co_await std::move(opening);
      start_idle_closer();
    }
    // Prepared once per connection: the statements are the same every cycle, and planning them
    // again each time is work the monitored server need not do.
    auto running = slot->conn->query_prepared(sql.c_str(), std::move(params));
    auto rows = co_await std::move(running);
    result.emplace(std::move(rows));
  } catch (...) {
    failure = std::current_exception();
  }
  // A connection that broke or timed out is closed before its slot is handed on.
  if (slot->conn && !slot->conn->healthy()) {
    auto closing = slot->conn->close(kCloseWait);
    co_await std::move(closing);
  }
  if (failure) std::rethrow_exception(failure);
  co_return std::move(*result);
}

boost::asio::awaitable<DatabaseSessions::Taken> DatabaseSessions::wait_for_slot(std::string dbname) {
  const auto deadline = Clock::now() + kWaitForConnection;
  for (;;) {
    auto taken = try_take(dbname);
    if (taken) co_return std::move(*taken);
    if (Clock::now() >= deadline)
      throw db::DbUnavailable("no connection for database \"" + dbname + "\" became free within 30 s");
    // Woken by release(), or by the deadline.
    boost::asio::steady_timer wake(executor_);
    wake.expires_at(deadline);
    Waiting waiting(waiters_, dbname, wake);
    boost::system::error_code woken_early;
    co_await wake.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, woken_early));
  }
}

std::optional<DatabaseSessions::Taken> DatabaseSessions::try_take(const std::string& dbname) {
  for (auto it = connections_.begin(); it != connections_.end(); ++it) {
    if (it->dbname != dbname) continue;
    if (it->busy) return std::nullopt;  // one statement at a time per database
    it->busy = true;
    return Taken{it, nullptr};
  }
  if (connections_.size() < budget_) {
    connections_.push_back(Connection{dbname, nullptr, true, Clock::now()});
    return Taken{std::prev(connections_.end()), nullptr};
  }
  // Make room by closing the least recently used idle connection, unless another request is
  // waiting for exactly that database: it will take it when it wakes.
  auto victim = connections_.end();
  for (auto it = connections_.begin(); it != connections_.end(); ++it)
    if (!it->busy && !wanted_by_waiter(it->dbname) && (victim == connections_.end() || it->last_used < victim->last_used))
      victim = it;
  if (victim == connections_.end()) return std::nullopt;
  Taken taken{victim, std::move(victim->conn)};
  victim->dbname = dbname;
  victim->busy = true;
  return taken;
}

bool DatabaseSessions::wanted_by_waiter(const std::string& dbname) const {
  return std::any_of(waiters_.begin(), waiters_.end(), [&](const Waiter& w) { return w.dbname == dbname; });
}

void DatabaseSessions::release(Slot slot) {
  slot->busy = false;
  slot->last_used = Clock::now();
  // A connection that failed to open, broke or was closed is dropped, never handed out again.
  if (!slot->conn || !slot->conn->healthy()) connections_.erase(slot);
  for (auto& waiter : waiters_) waiter.wake->cancel();
}

void DatabaseSessions::start_idle_closer() {
  if (idle_closer_running_) return;
  idle_closer_running_ = true;
  boost::asio::co_spawn(executor_, idle_closer(weak_from_this()), boost::asio::detached);
}

boost::asio::awaitable<void> DatabaseSessions::idle_closer(std::weak_ptr<DatabaseSessions> weak) {
  for (;;) {
    boost::asio::steady_timer tick(co_await boost::asio::this_coro::executor, kIdleCheck);
    co_await tick.async_wait(boost::asio::use_awaitable);
    auto sessions = weak.lock();
    if (!sessions) co_return;
    auto closing = sessions->close_idle_connections();
    const bool any_left = co_await std::move(closing);
    if (!any_left) co_return;
  }
}

boost::asio::awaitable<bool> DatabaseSessions::close_idle_connections() {
  const auto now = Clock::now();
  std::vector<Slot> expired;
  for (auto it = connections_.begin(); it != connections_.end(); ++it)
    if (!it->busy && now - it->last_used >= kIdleLimit) {
      it->busy = true;  // still counted against the budget until the server has let it go
      expired.push_back(it);
    }
  for (const Slot slot : expired) {
    ReleaseOnExit release_on_exit(*this, slot);
    auto closing = slot->conn->close(kCloseWait);
    co_await std::move(closing);
  }
  idle_closer_running_ = !connections_.empty();
  co_return idle_closer_running_;
}

}  // namespace pga::agent::collectors
