// SQL of sessions, refresh tokens and the per-request principal checks. The statements run on
// every request (user_with_session, collector_with_session, use_api_token) are prepared once
// per connection and answer in one round trip, grants included.
#include "pganalytics/server/session_repository.hpp"

namespace pga::server::repo {
namespace {

std::optional<std::string> user_param(const RefreshOwner& owner) {
  if (!owner.user_id) return std::nullopt;
  return std::to_string(*owner.user_id);
}

UserRow user_at(const db::PgResult& r, int row, int first_column) {
  return UserRow{r.get_int(row, first_column), std::string(r.get(row, first_column + 1)),
                 std::string(r.get(row, first_column + 2)), std::string(r.get(row, first_column + 3)),
                 r.get(row, first_column + 4) == "t"};
}

}  // namespace

awaitable<void> insert_session(AsyncConnection& conn, const std::string& session_id, const RefreshOwner& owner,
                               std::int64_t ttl_seconds, const std::string& remote_addr) {
  co_await conn.exec(
      "INSERT INTO pganalytics.sessions (id, user_id, collector_id, created_addr, last_used_addr, expires_at) "
      "VALUES ($1::uuid, $2::bigint, $3::uuid, $4, $4, now() + make_interval(secs => $5::bigint))",
      session_id, user_param(owner), owner.collector_id, remote_addr, ttl_seconds);
}

awaitable<void> insert_refresh_token(AsyncConnection& conn, const std::string& token_hash,
                                     const std::string& session_id, const RefreshOwner& owner) {
  co_await conn.exec(
      "INSERT INTO pganalytics.refresh_tokens (token_hash, family_id, user_id, collector_id, family_expires_at) "
      "SELECT decode($1, 'hex'), id, $3::bigint, $4::uuid, expires_at FROM pganalytics.sessions WHERE id = $2::uuid",
      token_hash, session_id, user_param(owner), owner.collector_id);
}

awaitable<std::optional<RefreshRow>> lock_refresh_token(AsyncConnection& conn, const std::string& token_hash) {
  auto r = co_await conn.exec(
      "SELECT t.id, t.family_id, t.user_id, t.collector_id, t.rotated_at IS NOT NULL, "
      " (t.revoked_at IS NOT NULL OR s.revoked_at IS NOT NULL), s.expires_at <= now(), "
      " coalesce(floor(extract(epoch FROM t.rotated_at))::bigint, 0), "
      " coalesce(extract(epoch FROM now() - t.rotated_at)::double precision, 0), "
      " (n.rotated_at IS NOT NULL OR n.revoked_at IS NOT NULL) IS TRUE "
      "FROM pganalytics.refresh_tokens t JOIN pganalytics.sessions s ON s.id = t.family_id "
      "LEFT JOIN pganalytics.refresh_tokens n ON n.id = t.replaced_by "
      "WHERE t.token_hash = decode($1, 'hex') FOR UPDATE OF t",
      token_hash);
  if (r.rows() == 0) co_return std::nullopt;
  RefreshRow row{r.get_int(0, 0), std::string(r.get(0, 1)), {}, r.get(0, 4) == "t", r.get(0, 5) == "t",
                 r.get(0, 6) == "t"};
  if (!r.is_null(0, 2)) row.owner.user_id = r.get_int(0, 2);
  if (!r.is_null(0, 3)) row.owner.collector_id = std::string(r.get(0, 3));
  row.rotated_at = r.get_int(0, 7);
  row.seconds_since_rotation = std::stod(std::string(r.get(0, 8)));
  row.successor_used = r.get(0, 9) == "t";
  co_return row;
}

awaitable<std::int64_t> rotate_refresh_token(AsyncConnection& conn, std::int64_t id, const std::string& next_hash,
                                             const std::string& remote_addr) {
  auto r = co_await conn.exec(
      "WITH next AS ("
      " INSERT INTO pganalytics.refresh_tokens (token_hash, family_id, user_id, collector_id, family_expires_at)"
      " SELECT decode($2, 'hex'), family_id, user_id, collector_id, family_expires_at"
      " FROM pganalytics.refresh_tokens WHERE id = $1 RETURNING id, family_id),"
      " used AS (UPDATE pganalytics.sessions SET last_used_at = now(), last_used_addr = $3"
      " WHERE id = (SELECT family_id FROM next)) "
      "UPDATE pganalytics.refresh_tokens SET rotated_at = now(), replaced_by = (SELECT id FROM next) WHERE id = $1 "
      "RETURNING floor(extract(epoch FROM rotated_at))::bigint",
      id, next_hash, remote_addr);
  co_return r.get_int(0, 0);
}

awaitable<void> revoke_session(AsyncConnection& conn, const std::string& session_id, const std::string& reason) {
  co_await conn.exec(
      "WITH s AS (UPDATE pganalytics.sessions SET revoked_at = now(), revoked_reason = $2"
      " WHERE id = $1::uuid AND revoked_at IS NULL) "
      "UPDATE pganalytics.refresh_tokens SET revoked_at = now() WHERE family_id = $1::uuid AND revoked_at IS NULL",
      session_id, reason);
}

awaitable<std::int64_t> revoke_user_sessions(AsyncConnection& conn, std::int64_t user_id, const std::string& reason,
                                             const std::optional<std::string>& except_session) {
  auto r = co_await conn.exec(
      "WITH s AS (UPDATE pganalytics.sessions SET revoked_at = now(), revoked_reason = $2"
      " WHERE user_id = $1 AND revoked_at IS NULL AND ($3::uuid IS NULL OR id <> $3::uuid) RETURNING id),"
      " t AS (UPDATE pganalytics.refresh_tokens SET revoked_at = now()"
      " WHERE family_id IN (SELECT id FROM s) AND revoked_at IS NULL) "
      "SELECT count(*) FROM s",
      user_id, reason, except_session);
  co_return r.get_int(0, 0);
}

awaitable<std::int64_t> revoke_collector_sessions(AsyncConnection& conn, const std::string& collector_id,
                                                  const std::string& reason) {
  auto r = co_await conn.exec(
      "WITH s AS (UPDATE pganalytics.sessions SET revoked_at = now(), revoked_reason = $2"
      " WHERE collector_id = $1::uuid AND revoked_at IS NULL RETURNING id),"
      " t AS (UPDATE pganalytics.refresh_tokens SET revoked_at = now()"
      " WHERE family_id IN (SELECT id FROM s) AND revoked_at IS NULL) "
      "SELECT count(*) FROM s",
      collector_id, reason);
  co_return r.get_int(0, 0);
}

awaitable<std::string> list_user_sessions(AsyncConnection& conn, std::int64_t user_id,
                                          const std::optional<std::string>& current_session) {
  auto r = co_await conn.exec(
      "SELECT coalesce(json_agg(json_build_object('id', id, 'created_at', created_at, 'created_addr', created_addr,"
      " 'last_used_at', last_used_at, 'last_used_addr', last_used_addr, 'expires_at', expires_at,"
      " 'current', id = $2::uuid IS TRUE) ORDER BY created_at DESC), '[]'::json)::text "
      "FROM pganalytics.sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()",
      user_id, current_session);
  co_return std::string(r.get(0, 0));
}

awaitable<bool> revoke_own_session(AsyncConnection& conn, std::int64_t user_id, const std::string& session_id) {
  auto r = co_await conn.exec(
      "SELECT 1 FROM pganalytics.sessions WHERE id = $1::uuid AND user_id = $2 AND revoked_at IS NULL "
      "AND expires_at > now()",
      session_id, user_id);
  if (r.rows() == 0) co_return false;
  co_await revoke_session(conn, session_id, "revoked by its user");
  co_return true;
}

awaitable<std::optional<SessionUser>> user_with_session(AsyncConnection& conn, std::int64_t user_id,
                                                        const std::string& session_id) {
  auto r = co_await conn.exec_prepared(
      "SELECT u.id, u.username, u.password_hash, u.role, u.disabled,"
      " EXISTS (SELECT 1 FROM pganalytics.sessions s WHERE s.id = $2::uuid AND s.user_id = u.id"
      "  AND s.revoked_at IS NULL AND s.expires_at > now()),"
      " (SELECT coalesce(array_agg(v.server_id ORDER BY v.server_id), '{}')"
      "  FROM pganalytics.user_visible_servers v WHERE v.user_id = u.id)::text "
      "FROM pganalytics.users u WHERE u.id = $1",
      user_id, session_id);
  if (r.rows() == 0) co_return std::nullopt;
  co_return SessionUser{user_at(r, 0, 0), r.get(0, 5) == "t", db::parse_id_array(r.get(0, 6))};
}

awaitable<std::optional<CollectorSession>> collector_with_session(AsyncConnection& conn,
                                                                  const std::string& collector_id,
                                                                  const std::string& session_id) {
  auto r = co_await conn.exec_prepared(
      "SELECT c.status, EXISTS (SELECT 1 FROM pganalytics.sessions s WHERE s.id = $2::uuid"
      "  AND s.collector_id = c.id AND s.revoked_at IS NULL AND s.expires_at > now()) "
      "FROM pganalytics.collectors c WHERE c.id = $1::uuid AND c.deleted_at IS NULL",
      collector_id, session_id);
  if (r.rows() == 0) co_return std::nullopt;
  co_return CollectorSession{std::string(r.get(0, 0)), r.get(0, 1) == "t"};
}

awaitable<std::optional<ApiTokenUse>> use_api_token(AsyncConnection& conn, const std::string& token_hash,
                                                    const std::string& remote_addr) {
  auto r = co_await conn.exec_prepared(
      "WITH t AS (SELECT * FROM pganalytics.api_tokens WHERE token_hash = decode($1, 'hex')),"
      " used AS (UPDATE pganalytics.api_tokens a SET last_used_at = now(), last_used_addr = $2"
      "  FROM t WHERE a.id = t.id AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())"
      "  AND (t.last_used_at IS NULL"
      "  OR t.last_used_at < now() - interval '1 minute' OR t.last_used_addr IS DISTINCT FROM $2)) "
      "SELECT t.id, t.role, t.server_ids::text, t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now()),"
      " u.id, u.username, u.password_hash, u.role, u.disabled,"
      " (SELECT coalesce(array_agg(v.server_id ORDER BY v.server_id), '{}')"
      "  FROM pganalytics.user_visible_servers v WHERE v.user_id = u.id)::text "
      "FROM t JOIN pganalytics.users u ON u.id = t.user_id",
      token_hash, remote_addr);
  if (r.rows() == 0) co_return std::nullopt;
  ApiTokenUse use{r.get_int(0, 0), std::string(r.get(0, 1)), std::nullopt, r.get(0, 3) == "t", user_at(r, 0, 4),
                  db::parse_id_array(r.get(0, 9))};
  if (!r.is_null(0, 2)) use.token_servers = db::parse_id_array(r.get(0, 2));
  co_return use;
}

awaitable<std::int64_t> take_login_attempt(AsyncConnection& conn, const std::string& username,
                                           const std::string& address_key, const LoginBudgets& budgets) {
  const auto window_seconds = std::chrono::duration_cast<std::chrono::seconds>(budgets.window).count();
  auto r = co_await conn.exec_prepared(
      "SELECT pganalytics.login_attempt($1, $2, make_interval(secs => $3::bigint), $4, $5, $6)", username,
      address_key, window_seconds, budgets.per_name, budgets.per_address, budgets.global);
  co_return r.get_int(0, 0);
}

awaitable<void> login_succeeded(AsyncConnection& conn, const std::string& username, const std::string& address_key) {
  co_await conn.exec_prepared("SELECT pganalytics.login_succeeded($1, $2)", username, address_key);
}

awaitable<std::int64_t> prune_login_attempts(AsyncConnection& conn, Duration window) {
  const auto window_seconds = std::chrono::duration_cast<std::chrono::seconds>(window).count();
  auto r = co_await conn.exec(
      "WITH gone AS (DELETE FROM pganalytics.login_attempts"
      " WHERE window_start <= now() - make_interval(secs => $1::bigint) RETURNING 1) SELECT count(*) FROM gone",
      window_seconds);
  co_return r.get_int(0, 0);
}

awaitable<std::int64_t> prune_sessions(AsyncConnection& conn) {
  auto r = co_await conn.exec(
      "WITH gone AS (DELETE FROM pganalytics.sessions WHERE least(expires_at, coalesce(revoked_at, expires_at))"
      " < now() - interval '1 day' RETURNING 1) SELECT count(*) FROM gone");
  co_return r.get_int(0, 0);
}

}  // namespace pga::server::repo
