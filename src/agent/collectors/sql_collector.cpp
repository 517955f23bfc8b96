// SqlCollector: every statement of a family in turn on the shared session. Empty results are left
// out (no senders, no slots): a sample without rows tells the server nothing. Sizes, if any, are
// read only for the objects due (SizeCache).
#include "pganalytics/agent/collectors/sql_collector.hpp"

namespace pga::agent::collectors {

SqlCollector::SqlCollector(std::string family, std::shared_ptr<PgSession> session,
                           std::vector<StatementFor> statements)
    : family_(std::move(family)), session_(std::move(session)), statements_(std::move(statements)), sizes_(kSizeMaxAge) {}

SqlCollector::SqlCollector(std::string family, std::shared_ptr<PgSession> session, StatementFor statement,
                           ResultFingerprint fingerprint, Sizing sizing)
    : family_(std::move(family)),
      session_(std::move(session)),
      statements_{statement},
      fingerprint_(std::move(fingerprint)),
      sizing_(std::move(sizing)),
      sizes_(kSizeMaxAge, sizing_->min_interval) {}

boost::asio::awaitable<std::vector<metrics::Sample>> SqlCollector::collect() {
  const int version = co_await session_->server_version_num();
  // One time for all statements, so the rows of one collection read as one moment.
  const auto at = std::chrono::system_clock::now();
  std::vector<metrics::Sample> samples;
  for (const auto statement_for : statements_) {
    const auto sql = statement_for(version);
    auto result = co_await session_->query(sql.c_str());
    if (result.rows() == 0) continue;
    auto sample = sample_from_result(family_, session_->instance(), at, result);
    if (sizing_) {
      auto sizing = attach_sizes(result, sample);
      co_await std::move(sizing);
    }
    samples.push_back(std::move(sample));
  }
  co_return samples;
}

boost::asio::awaitable<void> SqlCollector::attach_sizes(const db::PgResult& result, metrics::Sample& sample) {
  const auto objects = sized_objects(result, fingerprint_);
  const auto now = SizeCache::Clock::now();
  const auto due = sizes_.due(objects, now);
  if (!due.empty()) {
    const auto ids = id_array(due);
    auto sizes = co_await session_->exec(sizing_->sizes_sql.c_str(), ids);
    store_sizes(sizes_, sizes, objects, now);
  }
  append_sizes(sample, sizes_, objects, *sizing_);
}

}  // namespace pga::agent::collectors
