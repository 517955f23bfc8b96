// One monitored PostgreSQL instance as the collectors see it: a lazily opened, self-healing
// connection with the agent's session settings, its server version, and result-to-sample typing.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>
#include <string>

#include "pganalytics/db/async_pg.hpp"
#include "pganalytics/metrics/sample.hpp"

namespace pga::agent::collectors {

// SQL that renders a timestamptz expression as RFC 3339 UTC text, the push batch's format.
std::string rfc3339_sql(const std::string& expression);

class PgSession {
 public:
  PgSession(boost::asio::any_io_executor executor, std::string instance, std::string conninfo);
  const std::string& instance() const { return instance_; }
  // Runs a read-only statement, connecting first if needed, after any statement of another
  // collector on this session; on a broken connection the next call reconnects.
  // Throws db::DbError / DbUnavailable. Used from one thread (the agent's event loop).
  boost::asio::awaitable<db::PgResult> query(const char* sql);
  boost::asio::awaitable<int> server_version_num();

 private:
  boost::asio::awaitable<void> ensure_connected();
  boost::asio::any_io_executor executor_;
  std::string instance_;
  std::string conninfo_;
  std::unique_ptr<db::AsyncConnection> conn_;
  int version_ = 0;
  bool busy_ = false;  // the collectors of one instance share its connection, one query at a time
};

// Types each result column by its name in `family` (the SQL aliases columns to registry names).
metrics::Sample sample_from_result(const std::string& family, const std::string& instance,
                                   std::chrono::system_clock::time_point at, const db::PgResult& result);

}  // namespace pga::agent::collectors
