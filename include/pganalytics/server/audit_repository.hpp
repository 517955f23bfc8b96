// SQL reading the audit log (filters and paging), verifying its hash chain and applying its
// retention (migration 0006 holds the functions). Appending: repo::audit in repository.hpp.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>

#include "pganalytics/common/units.hpp"
#include "pganalytics/db/async_pg.hpp"

namespace pga::server::repo {

using boost::asio::awaitable;

struct AuditQuery {
  std::optional<double> from_unix;  // at >= from
  std::optional<double> to_unix;    // at < to
  std::optional<std::string> actor;
  std::optional<std::string> action;  // exact, or a prefix when it ends with '*' ("auth.*")
  std::optional<std::int64_t> before_id;  // the cursor: rows older than this id
  std::int64_t limit = 100;
};
// {"entries":[{"id","at","actor","action","target","outcome","remote_addr","detail","count"}],
//  "next_cursor": "<id>" | null}, newest first.
awaitable<std::string> list_audit_json(db::AsyncConnection& conn, const AuditQuery& query);

struct AuditVerdict {
  bool ok;
  std::int64_t checked;
  std::optional<std::int64_t> first_bad_id;
};
awaitable<AuditVerdict> verify_audit(db::AsyncConnection& conn);

// Removes the rows older than `keep` (a prefix of the chain); returns how many.
awaitable<std::int64_t> prune_audit(db::AsyncConnection& conn, Duration keep);

}  // namespace pga::server::repo
