// Read side of the audit log. Paging walks ids downwards (the chain's order): a cursor is the
// last id of the previous page, so rows appended meanwhile never shift a page.
#include "pganalytics/server/audit_repository.hpp"

namespace pga::server::repo {

awaitable<std::string> list_audit_json(db::AsyncConnection& conn, const AuditQuery& q) {
  std::optional<std::string> exact, prefix;
  if (q.action && q.action->ends_with('*')) prefix = q.action->substr(0, q.action->size() - 1);
  else exact = q.action;
  auto r = co_await conn.exec(
      "WITH page AS (SELECT *, row_number() OVER (ORDER BY id DESC) AS n FROM ("
      " SELECT * FROM pganalytics.audit_log"
      " WHERE ($1::double precision IS NULL OR at >= to_timestamp($1::double precision))"
      " AND ($2::double precision IS NULL OR at < to_timestamp($2::double precision))"
      " AND ($3::text IS NULL OR actor = $3) AND ($4::text IS NULL OR action = $4)"
      " AND ($5::text IS NULL OR starts_with(action, $5)) AND ($6::bigint IS NULL OR id < $6)"
      " ORDER BY id DESC LIMIT $7::bigint + 1) rows) "
      "SELECT json_build_object('entries', coalesce(json_agg(json_build_object('id', id, 'at', at, 'actor', actor,"
      " 'action', action, 'target', target, 'outcome', outcome, 'remote_addr', remote_addr, 'detail', detail,"
      " 'count', count) ORDER BY id DESC) FILTER (WHERE n <= $7::bigint), '[]'::json),"
      " 'next_cursor', CASE WHEN count(*) > $7::bigint THEN (min(id) FILTER (WHERE n <= $7::bigint))::text END)::text "
      "FROM page",
      q.from_unix, q.to_unix, q.actor, exact, prefix, q.before_id, q.limit);
  co_return std::string(r.get(0, 0));
}

awaitable<AuditVerdict> verify_audit(db::AsyncConnection& conn) {
  auto r = co_await conn.query("SELECT ok, checked, first_bad_id FROM pganalytics.verify_audit_log()", {},
                               std::chrono::minutes(5));
  AuditVerdict verdict{r.get(0, 0) == "t", r.get_int(0, 1), std::nullopt};
  if (!r.is_null(0, 2)) verdict.first_bad_id = r.get_int(0, 2);
  co_return verdict;
}

awaitable<std::int64_t> prune_audit(db::AsyncConnection& conn, Duration keep) {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(keep).count();
  auto r = co_await conn.exec("SELECT pganalytics.prune_audit_log(make_interval(secs => $1::bigint))", seconds);
  co_return r.get_int(0, 0);
}

}  // namespace pga::server::repo
