// SQL for who may talk to the server: enrolment tokens, collectors (with their monitored host and
// their lifecycle), users and the audit trail's append (pganalytics.audit_append chains the row).
#include "pganalytics/server/repository.hpp"

namespace pga::server::repo {

awaitable<void> create_enrollment_token(AsyncConnection& conn, const std::string& token_hash, std::int64_t ttl_seconds,
                                        int uses, const std::string& created_by) {
  co_await conn.exec(
      "INSERT INTO pganalytics.enrollment_tokens (token_hash, expires_at, uses_allowed, created_by) "
      "VALUES (decode($1, 'hex'), now() + make_interval(secs => $2::bigint), $3, $4)",
      token_hash, ttl_seconds, uses, created_by);
}

awaitable<bool> enrollment_token_usable(AsyncConnection& conn, const std::string& token_hash) {
  auto r = co_await conn.exec_prepared(
      "SELECT 1 FROM pganalytics.enrollment_tokens "
      "WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL AND expires_at > now() AND uses < uses_allowed",
      token_hash);
  co_return r.rows() == 1;
}

awaitable<bool> consume_enrollment_token(AsyncConnection& conn, const std::string& token_hash) {
  auto r = co_await conn.exec(
      "UPDATE pganalytics.enrollment_tokens SET uses = uses + 1 "
      "WHERE token_hash = decode($1, 'hex') AND revoked_at IS NULL AND expires_at > now() AND uses < uses_allowed "
      "RETURNING id",
      token_hash);
  co_return r.rows() == 1;
}

awaitable<void> create_collector(AsyncConnection& conn, const NewCollector& c) {
  auto server = co_await conn.exec(
      "INSERT INTO pganalytics.servers (hostname, display_name) VALUES ($1, $2) RETURNING id", c.hostname, c.name);
  co_await conn.exec(
      "INSERT INTO pganalytics.collectors (id, name, hostname, server_id, agent_version, certificate_serial, "
      "certificate_expires_at) VALUES ($1::uuid, $2, $3, $4, $5, $6, to_timestamp($7::bigint))",
      c.id, c.name, c.hostname, std::string(server.get(0, 0)), c.agent_version, c.certificate_serial,
      c.certificate_expires_at);
}

awaitable<std::optional<std::string>> collector_status(AsyncConnection& conn, const std::string& collector_id) {
  auto r = co_await conn.exec(
      "SELECT status FROM pganalytics.collectors WHERE id = $1::uuid AND deleted_at IS NULL", collector_id);
  if (r.rows() == 0) co_return std::nullopt;
  co_return std::string(r.get(0, 0));
}

awaitable<std::optional<CollectorConfig>> collector_config(AsyncConnection& conn, const std::string& collector_id) {
  auto r = co_await conn.exec(
      "SELECT config::text, config_version FROM pganalytics.collectors WHERE id = $1::uuid AND deleted_at IS NULL",
      collector_id);
  if (r.rows() == 0) co_return std::nullopt;
  co_return CollectorConfig{std::string(r.get(0, 0)), r.get_int(0, 1)};
}

awaitable<std::optional<std::int64_t>> update_collector_config(AsyncConnection& conn, const std::string& collector_id,
                                                               const std::string& config_json) {
  auto r = co_await conn.exec(
      "UPDATE pganalytics.collectors SET config = $2::jsonb, config_version = config_version + 1 "
      "WHERE id = $1::uuid AND deleted_at IS NULL RETURNING config_version",
      collector_id, config_json);
  if (r.rows() == 0) co_return std::nullopt;
  co_return r.get_int(0, 0);
}

awaitable<void> record_collector_certificate(AsyncConnection& conn, const std::string& collector_id,
                                             const std::string& serial, std::int64_t expires_at) {
  co_await conn.exec(
      "UPDATE pganalytics.collectors SET certificate_serial = $2, certificate_expires_at = to_timestamp($3::bigint) "
      "WHERE id = $1::uuid",
      collector_id, serial, expires_at);
}

awaitable<bool> set_collector_status(AsyncConnection& conn, const std::string& collector_id, const std::string& status) {
  auto r = co_await conn.exec(
      "UPDATE pganalytics.collectors SET status = $2 WHERE id = $1::uuid AND deleted_at IS NULL RETURNING 1",
      collector_id, status);
  co_return r.rows() == 1;
}

awaitable<bool> rename_collector(AsyncConnection& conn, const std::string& collector_id, const std::string& name) {
  auto r = co_await conn.exec(
      "WITH c AS (UPDATE pganalytics.collectors SET name = $2 WHERE id = $1::uuid AND deleted_at IS NULL"
      " RETURNING server_id) "
      "UPDATE pganalytics.servers SET display_name = $2 WHERE id = (SELECT server_id FROM c) RETURNING 1",
      collector_id, name);
  co_return r.rows() == 1;
}

awaitable<bool> delete_collector(AsyncConnection& conn, const std::string& collector_id, bool keep_data) {
  if (keep_data) {
    auto r = co_await conn.exec(
        "UPDATE pganalytics.collectors SET deleted_at = now(), status = 'disabled' "
        "WHERE id = $1::uuid AND deleted_at IS NULL RETURNING 1",
        collector_id);
    co_return r.rows() == 1;
  }
  auto r = co_await conn.exec(
      "SELECT pganalytics.delete_server_data(server_id) FROM pganalytics.collectors "
      "WHERE id = $1::uuid AND deleted_at IS NULL",
      collector_id);
  co_return r.rows() == 1;
}

namespace {
UserRow user_from(const db::PgResult& r) {
  return UserRow{r.get_int(0, 0), std::string(r.get(0, 1)), std::string(r.get(0, 2)), std::string(r.get(0, 3)),
                 r.get(0, 4) == "t"};
}
}  // namespace

awaitable<std::int64_t> create_user(AsyncConnection& conn, const std::string& username, const std::string& password_hash,
                                    const std::string& role) {
  auto r = co_await conn.exec(
      "INSERT INTO pganalytics.users (username, password_hash, role) VALUES ($1, $2, $3) RETURNING id", username,
      password_hash, role);
  co_return r.get_int(0, 0);
}

awaitable<std::optional<UserRow>> find_user_by_name(AsyncConnection& conn, const std::string& username) {
  auto r = co_await conn.exec(
      "SELECT id, username, password_hash, role, disabled FROM pganalytics.users WHERE username = $1", username);
  if (r.rows() == 0) co_return std::nullopt;
  co_return user_from(r);
}

awaitable<std::optional<UserRow>> find_user_by_id(AsyncConnection& conn, std::int64_t id) {
  auto r = co_await conn.exec(
      "SELECT id, username, password_hash, role, disabled FROM pganalytics.users WHERE id = $1", id);
  if (r.rows() == 0) co_return std::nullopt;
  co_return user_from(r);
}

awaitable<void> set_user_password(AsyncConnection& conn, std::int64_t id, const std::string& password_hash) {
  co_await conn.exec("UPDATE pganalytics.users SET password_hash = $2 WHERE id = $1", id, password_hash);
}

awaitable<void> touch_user_login(AsyncConnection& conn, std::int64_t id) {
  co_await conn.exec("UPDATE pganalytics.users SET last_login_at = now() WHERE id = $1", id);
}

awaitable<void> audit(AsyncConnection& conn, const AuditEntry& e) {
  co_await conn.exec_prepared("SELECT pganalytics.audit_append($1, $2, $3, $4, $5, $6::jsonb, $7)", e.actor, e.action,
                              e.target, std::string(e.success ? "success" : "failure"), e.remote_addr, e.detail_json,
                              e.count);
}

}  // namespace pga::server::repo
