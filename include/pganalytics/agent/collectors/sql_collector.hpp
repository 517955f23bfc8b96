// The generic PostgreSQL collector: runs a family's statements, chosen by server version, on the
// instance's PgSession and turns each non-empty result into one sample of that family.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pganalytics/agent/collector.hpp"
#include "pganalytics/agent/collectors/object_sizes.hpp"
#include "pganalytics/agent/collectors/pg_session.hpp"

namespace pga::agent::collectors {

// Builds one statement for a server_version_num; its result columns carry registry names.
using StatementFor = std::string (*)(int server_version_num);

class SqlCollector : public Collector {
 public:
  // A family read by several statements (replication: senders, slots, receiver) lists them all;
  // each result becomes its own sample, so each carries only the columns it has.
  SqlCollector(std::string family, std::shared_ptr<PgSession> session, std::vector<StatementFor> statements);
  // A family with sizes read apart from its statistics (see Sizing), by one statement whose
  // result carries each object's fingerprint.
  SqlCollector(std::string family, std::shared_ptr<PgSession> session, StatementFor statement,
               ResultFingerprint fingerprint, Sizing sizing);
  const std::string& family() const override { return family_; }
  const std::string& instance() const override { return session_->instance(); }
  boost::asio::awaitable<std::vector<metrics::Sample>> collect() override;

 private:
  std::string family_;
  std::shared_ptr<PgSession> session_;
  std::vector<StatementFor> statements_;
  ResultFingerprint fingerprint_;
  std::optional<Sizing> sizing_;
  SizeCache sizes_;

  boost::asio::awaitable<void> attach_sizes(const db::PgResult& result, metrics::Sample& sample);
};

}  // namespace pga::agent::collectors
