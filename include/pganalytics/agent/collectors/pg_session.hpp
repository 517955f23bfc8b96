// One monitored PostgreSQL instance as the collectors see it: a lazily opened, self-healing
// connection with the agent's session settings, its server version, and result-to-sample typing.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pganalytics/db/async_pg.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

// A timestamptz expression selected for a Timestamp column. Agent sessions run with TimeZone UTC
// and DateStyle ISO, so it arrives as "2026-11-26 03:35:38.123456+00" and rfc3339_from_iso makes
// it the batch's RFC 3339 ("2026-11-26T03:35:38.123456Z"): to_char() in SQL cost more per table
// than all of its counters.
std::string rfc3339_sql(const std::string& expression);
using db::id_array;
// ISO UTC text as above → RFC 3339; anything else is returned unchanged (and refused by the
// sample check, which names the column).
std::string rfc3339_from_iso(std::string_view text);

// Opens a connection with the agent's session settings (application_name "pganalytics-agent",
// timeouts, read-only, UTF-8); every connection the agent holds to an instance is opened here.
boost::asio::awaitable<std::unique_ptr<db::AsyncConnection>> open_agent_connection(
    boost::asio::any_io_executor executor, std::string conninfo);

class PgSession {
 public:
  PgSession(boost::asio::any_io_executor executor, std::string instance, std::string conninfo);
  const std::string& instance() const { return instance_; }
  // Runs a read-only statement, connecting first if needed, after any statement of another
  // collector on this session; on a broken connection the next call reconnects.
  // Throws db::DbError / DbUnavailable. Used from one thread (the agent's event loop).
  boost::asio::awaitable<db::PgResult> query(const char* sql);
  // The same with parameters $1.. given as arguments (strings, numbers, nullopt for NULL).
  template <typename... Args>
  boost::asio::awaitable<db::PgResult> exec(const char* sql, Args&&... args) {
    std::vector<db::Param> params;
    params.reserve(sizeof...(args));
    (params.push_back(db::to_param(std::forward<Args>(args))), ...);
    return query_params(sql, std::move(params));
  }
  boost::asio::awaitable<int> server_version_num();
  // Grows with every connection opened: a collector that reads settings once per connection
  // (the log's location) compares it to notice a reconnect, perhaps to a restarted server.
  std::uint64_t connections_opened() const { return connections_opened_; }

 private:
  boost::asio::awaitable<db::PgResult> query_params(const char* sql, std::vector<db::Param> params);
  boost::asio::awaitable<void> ensure_connected();
  boost::asio::any_io_executor executor_;
  std::string instance_;
  std::string conninfo_;
  std::unique_ptr<db::AsyncConnection> conn_;
  int version_ = 0;
  std::chrono::steady_clock::time_point reconnect_after_{};  // no connect attempt before this
  std::string connect_error_;                                // why the last attempt failed
  bool busy_ = false;  // the collectors of one instance share its connection, one query at a time
  std::uint64_t connections_opened_ = 0;
};

// Types each result column by its name in `family` (the SQL aliases columns to registry names).
// Columns named with a leading '_' are the collector's own working figures and are left out.
metrics::Sample sample_from_result(const std::string& family, const std::string& instance,
                                   std::chrono::system_clock::time_point at, const db::PgResult& result);

}  // namespace pga::agent::collectors
