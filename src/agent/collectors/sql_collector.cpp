// SqlCollector: every statement of a family in turn on the shared session. Empty results are left
// out (no senders, no slots): a sample without rows tells the server nothing.
#include "pganalytics/agent/collectors/sql_collector.hpp"

namespace pga::agent::collectors {

SqlCollector::SqlCollector(std::string family, std::shared_ptr<PgSession> session,
                           std::vector<StatementFor> statements)
    : family_(std::move(family)), session_(std::move(session)), statements_(std::move(statements)) {}

boost::asio::awaitable<std::vector<metrics::Sample>> SqlCollector::collect() {
  const int version = co_await session_->server_version_num();
  // One time for all statements, so the rows of one collection read as one moment.
  const auto at = std::chrono::system_clock::now();
  std::vector<metrics::Sample> samples;
  for (const auto statement_for : statements_) {
    const auto sql = statement_for(version);
    auto result = co_await session_->query(sql.c_str());
    if (result.rows() > 0) samples.push_back(sample_from_result(family_, session_->instance(), at, result));
  }
  co_return samples;
}

}  // namespace pga::agent::collectors
