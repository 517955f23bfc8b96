// Connections to the individual databases of one monitored instance, for the families read per
// database (tables, indexes): opened on demand, shared by those collectors, held within a budget.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pganalytics/agent/collectors/pg_session.hpp"
#include "pganalytics/db/async_pg.hpp"

namespace pga::agent::collectors {

// Per-database connections allowed beside the instance's main session: [[instance]]
// max_connections counts every connection to the instance, the main session included. At least
// one is always allowed, so per-database families still work with max_connections = 1.
std::size_t database_connection_budget(std::int64_t max_connections);

// `conninfo` (keyword=value or a postgresql:// URI) pointed at database `dbname`, rebuilt as a
// keyword=value string with every value quoted. Throws std::invalid_argument when libpq cannot
// parse `conninfo`.
std::string conninfo_with_dbname(const std::string& conninfo, const std::string& dbname);

class DatabaseSessions : public std::enable_shared_from_this<DatabaseSessions> {
 public:
  // Create with std::make_shared: idle connections are closed by a task that holds a weak_ptr.
  DatabaseSessions(boost::asio::any_io_executor executor, std::shared_ptr<PgSession> main, std::string conninfo,
                   std::size_t budget);
  ~DatabaseSessions();
  const std::string& instance() const { return main_->instance(); }
  boost::asio::awaitable<int> server_version_num() { return main_->server_version_num(); }

  // The databases to read, by name: those that allow connections, are not templates (a session
  // in template1 makes CREATE DATABASE fail) and grant CONNECT to the agent's role. Read on the
  // main session; each database skipped for lack of CONNECT is logged once.
  boost::asio::awaitable<std::vector<std::string>> databases();

  // Runs one read-only statement in database `dbname` on a connection of its own, opened if
  // needed, prepared there on first use (so `sql` must be one of a few fixed texts). One
  // statement at a time per database: the families read there queue rather than keep two
  // backends of one database busy at once. Waits for the connection within the budget (at most
  // 30 s, then DbUnavailable); throws db::DbError when the database cannot be reached or refuses
  // the statement. Used from one thread (the agent's event loop).
  boost::asio::awaitable<db::PgResult> query(std::string dbname, std::string sql, std::vector<db::Param> params);

 private:
  struct Connection {
    std::string dbname;
    std::unique_ptr<db::AsyncConnection> conn;  // null until opened
    bool busy = false;
    std::chrono::steady_clock::time_point last_used;
  };
  using Slot = std::list<Connection>::iterator;
  // A slot taken for a request, with the connection it held for another database, which must be
  // closed before the new one is opened.
  struct Taken {
    Slot slot;
    std::unique_ptr<db::AsyncConnection> evicted;
  };
  struct Waiter;  // a request waiting for a slot, and how to wake it
  class ReleaseOnExit;
  class Waiting;

  boost::asio::awaitable<Taken> wait_for_slot(std::string dbname);
  std::optional<Taken> try_take(const std::string& dbname);
  bool wanted_by_waiter(const std::string& dbname) const;
  void release(Slot slot);
  void start_idle_closer();
  static boost::asio::awaitable<void> idle_closer(std::weak_ptr<DatabaseSessions> weak);
  // Closes the connections idle for a while; false once none is left open.
  boost::asio::awaitable<bool> close_idle_connections();

  boost::asio::any_io_executor executor_;
  std::shared_ptr<PgSession> main_;
  std::string conninfo_;
  std::size_t budget_;
  std::list<Connection> connections_;
  std::list<Waiter> waiters_;
  std::set<std::string> reported_without_connect_;
  bool idle_closer_running_ = false;
};

}  // namespace pga::agent::collectors
