// SQL of API tokens: stored as SHA-256 hashes only, with their role, optional narrower scope,
// expiry, last use and revocation. (Using one to authenticate: session_repository.cpp.)
#include "pganalytics/server/user_repository.hpp"

namespace pga::server::repo {

awaitable<std::string> add_api_token(AsyncConnection& conn, const NewApiToken& t) {
  std::optional<std::string> servers;
  if (t.server_ids) servers = db::id_array(*t.server_ids);
  auto r = co_await conn.exec(
      "INSERT INTO pganalytics.api_tokens (user_id, name, token_hash, role, server_ids, expires_at, created_by) "
      "VALUES ($1, $2, decode($3, 'hex'), $4, $5::bigint[], now() + make_interval(secs => $6::bigint), $7) "
      "RETURNING json_build_object('id', id, 'name', name, 'role', role, 'expires_at', expires_at,"
      " 'user_id', user_id, 'server_ids', to_json(server_ids))::text",
      t.user_id, t.name, t.token_hash, t.role, servers, t.ttl_seconds, t.created_by);
  co_return std::string(r.get(0, 0));
}

awaitable<std::string> list_api_tokens_json(AsyncConnection& conn, std::optional<std::int64_t> owner) {
  auto r = co_await conn.exec(
      "SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name, 'role', t.role,"
      " 'user_id', t.user_id, 'username', u.username, 'server_ids', to_json(t.server_ids),"
      " 'created_at', t.created_at, 'expires_at', t.expires_at, 'last_used_at', t.last_used_at,"
      " 'last_used_addr', t.last_used_addr, 'revoked_at', t.revoked_at) ORDER BY t.id), '[]'::json)::text "
      "FROM pganalytics.api_tokens t JOIN pganalytics.users u ON u.id = t.user_id "
      "WHERE $1::bigint IS NULL OR t.user_id = $1::bigint",
      owner);
  co_return std::string(r.get(0, 0));
}

awaitable<std::optional<std::string>> revoke_api_token(AsyncConnection& conn, std::int64_t id,
                                                       std::optional<std::int64_t> owner) {
  auto r = co_await conn.exec(
      "UPDATE pganalytics.api_tokens SET revoked_at = now() "
      "WHERE id = $1 AND revoked_at IS NULL AND ($2::bigint IS NULL OR user_id = $2::bigint) RETURNING name",
      id, owner);
  if (r.rows() == 0) co_return std::nullopt;
  co_return std::string(r.get(0, 0));
}

}  // namespace pga::server::repo
