// SQL of users and their direct server grants. Changes that could leave the server without an
// enabled admin lock every enabled admin row first (in id order, so two such changes cannot
// deadlock) and are refused when they would remove the last one.
#include "pganalytics/server/user_repository.hpp"

namespace pga::server::repo {
namespace {

// Users as a JSON array, every user or only `only`.
awaitable<std::string> users_json(AsyncConnection& conn, std::optional<std::int64_t> only) {
  auto r = co_await conn.exec(
      "SELECT coalesce(json_agg(json_build_object('id', u.id, 'username', u.username, 'role', u.role,"
      " 'disabled', u.disabled, 'created_at', u.created_at, 'last_login_at', u.last_login_at,"
      " 'server_ids', (SELECT coalesce(json_agg(g.server_id ORDER BY g.server_id), '[]'::json)"
      "   FROM pganalytics.user_servers g WHERE g.user_id = u.id),"
      " 'team_ids', (SELECT coalesce(json_agg(m.team_id ORDER BY m.team_id), '[]'::json)"
      "   FROM pganalytics.team_members m WHERE m.user_id = u.id)) ORDER BY u.username), '[]'::json)::text "
      "FROM pganalytics.users u WHERE $1::bigint IS NULL OR u.id = $1::bigint",
      only);
  co_return std::string(r.get(0, 0));
}

UserRow user_from(const db::PgResult& r) {
  return UserRow{r.get_int(0, 0), std::string(r.get(0, 1)), std::string(r.get(0, 2)), std::string(r.get(0, 3)),
                 r.get(0, 4) == "t"};
}

// Locks every enabled admin; returns how many there are.
awaitable<std::int64_t> lock_admins(AsyncConnection& conn) {
  auto r = co_await conn.exec(
      "SELECT count(*) FROM (SELECT id FROM pganalytics.users WHERE role = 'admin' AND NOT disabled "
      "ORDER BY id FOR UPDATE) a");
  co_return r.get_int(0, 0);
}

awaitable<std::optional<UserRow>> lock_user(AsyncConnection& conn, std::int64_t id) {
  auto r = co_await conn.exec(
      "SELECT id, username, password_hash, role, disabled FROM pganalytics.users WHERE id = $1 FOR UPDATE", id);
  if (r.rows() == 0) co_return std::nullopt;
  co_return user_from(r);
}

bool is_enabled_admin(const UserRow& user) { return user.role == "admin" && !user.disabled; }

}  // namespace

awaitable<std::optional<std::string>> user_json(AsyncConnection& conn, std::int64_t id) {
  const auto list = co_await users_json(conn, id);
  if (list == "[]") co_return std::nullopt;
  co_return list.substr(1, list.size() - 2);
}

awaitable<std::string> list_users_json(AsyncConnection& conn) { co_return co_await users_json(conn, std::nullopt); }

awaitable<Outcome<std::int64_t>> add_user(AsyncConnection& conn, const std::string& username,
                                          const std::string& password_hash, const std::string& role) {
  auto r = co_await conn.exec(
      "INSERT INTO pganalytics.users (username, password_hash, role) VALUES ($1, $2, $3) "
      "ON CONFLICT (username) DO NOTHING RETURNING id",
      username, password_hash, role);
  if (r.rows() == 0) co_return Refused{Refusal::NameTaken};
  co_return r.get_int(0, 0);
}

awaitable<Outcome<UserRow>> change_user(AsyncConnection& conn, std::int64_t id, const UserChange& change) {
  Outcome<UserRow> outcome = Refused{Refusal::NotFound};
  co_await db::in_transaction(conn, [&]() -> awaitable<void> {
    const auto admins = co_await lock_admins(conn);
    const auto user = co_await lock_user(conn, id);
    if (!user) co_return;
    const bool stays_admin = change.role.value_or(user->role) == "admin" && !change.disabled.value_or(user->disabled);
    if (is_enabled_admin(*user) && !stays_admin && admins <= 1) {
      outcome = Refused{Refusal::LastAdmin};
      co_return;
    }
    auto r = co_await conn.exec(
        "UPDATE pganalytics.users SET role = coalesce($2, role), disabled = coalesce($3::boolean, disabled),"
        " password_hash = coalesce($4, password_hash), updated_at = now() WHERE id = $1 "
        "RETURNING id, username, password_hash, role, disabled",
        id, change.role, change.disabled, change.password_hash);
    outcome = user_from(r);
  });
  co_return outcome;
}

awaitable<Outcome<UserRow>> remove_user(AsyncConnection& conn, std::int64_t id) {
  Outcome<UserRow> outcome = Refused{Refusal::NotFound};
  co_await db::in_transaction(conn, [&]() -> awaitable<void> {
    const auto admins = co_await lock_admins(conn);
    const auto user = co_await lock_user(conn, id);
    if (!user) co_return;
    if (is_enabled_admin(*user) && admins <= 1) {
      outcome = Refused{Refusal::LastAdmin};
      co_return;
    }
    co_await conn.exec("DELETE FROM pganalytics.users WHERE id = $1", id);
    outcome = *user;
  });
  co_return outcome;
}

awaitable<std::optional<std::size_t>> first_unknown_server(AsyncConnection& conn,
                                                           const std::vector<std::int64_t>& server_ids) {
  auto r = co_await conn.exec(
      "SELECT min(n) FROM unnest($1::bigint[]) WITH ORDINALITY AS x(id, n) "
      "WHERE NOT EXISTS (SELECT 1 FROM pganalytics.servers s WHERE s.id = x.id)",
      db::id_array(server_ids));
  if (r.is_null(0, 0)) co_return std::nullopt;
  co_return static_cast<std::size_t>(r.get_int(0, 0) - 1);
}

awaitable<Outcome<std::vector<std::int64_t>>> set_user_servers(AsyncConnection& conn, std::int64_t user_id,
                                                               const std::vector<std::int64_t>& server_ids) {
  Outcome<std::vector<std::int64_t>> outcome = Refused{Refusal::NotFound};
  co_await db::in_transaction(conn, [&]() -> awaitable<void> {
    const auto user = co_await lock_user(conn, user_id);
    if (!user) co_return;
    if (const auto unknown = co_await first_unknown_server(conn, server_ids)) {
      outcome = Refused{Refusal::UnknownId, *unknown};
      co_return;
    }
    const auto ids = db::id_array(server_ids);
    co_await conn.exec("DELETE FROM pganalytics.user_servers WHERE user_id = $1 AND server_id <> ALL ($2::bigint[])",
                       user_id, ids);
    co_await conn.exec(
        "INSERT INTO pganalytics.user_servers (user_id, server_id) SELECT $1, unnest($2::bigint[]) "
        "ON CONFLICT DO NOTHING",
        user_id, ids);
    auto r = co_await conn.exec(
        "SELECT coalesce(array_agg(server_id ORDER BY server_id), '{}')::text FROM pganalytics.user_servers "
        "WHERE user_id = $1",
        user_id);
    outcome = db::parse_id_array(r.get(0, 0));
  });
  co_return outcome;
}

}  // namespace pga::server::repo
