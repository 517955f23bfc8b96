// SQL of users, their direct server grants and teams (whose servers are granted to every member:
// pganalytics.user_visible_servers joins both). Lists of ids are replaced whole, in one
// transaction. Changes that could leave the server without an enabled admin lock every enabled
// admin row first (in id order, so two such changes cannot deadlock) and are refused when they
// would remove the last one.
#include "pganalytics/server/user_repository.hpp"

#include <fmt/format.h>

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

// The first of `ids` that names no row of `table` (its position), if any. `table` is fixed text.
awaitable<std::optional<std::size_t>> first_unknown(AsyncConnection& conn, std::string_view table,
                                                   const std::vector<std::int64_t>& ids) {
  const auto sql = fmt::format(
      "SELECT min(n) FROM unnest($1::bigint[]) WITH ORDINALITY AS x(id, n) "
      "WHERE NOT EXISTS (SELECT 1 FROM pganalytics.{} t WHERE t.id = x.id)",
      table);
  auto r = co_await conn.exec(sql.c_str(), db::id_array(ids));
  if (r.is_null(0, 0)) co_return std::nullopt;
  co_return static_cast<std::size_t>(r.get_int(0, 0) - 1);
}

// Where a list of ids granted to an owner is kept: user_servers, team_members, team_servers.
struct LinkTable {
  std::string_view table;
  std::string_view owner_column;
  std::string_view item_column;
  std::string_view item_table;  // what the ids must name
};
constexpr LinkTable kUserServers{"user_servers", "user_id", "server_id", "servers"};
constexpr LinkTable kTeamMembers{"team_members", "team_id", "user_id", "users"};
constexpr LinkTable kTeamServers{"team_servers", "team_id", "server_id", "servers"};

// Replaces the owner's list with `ids` (in the caller's transaction, the owner's row locked),
// unless one of them names nothing.
awaitable<std::optional<Refused>> replace_links(AsyncConnection& conn, const LinkTable& link, std::int64_t owner,
                                                const std::vector<std::int64_t>& ids) {
  if (const auto unknown = co_await first_unknown(conn, link.item_table, ids)) co_return Refused{Refusal::UnknownId, *unknown};
  const auto list = db::id_array(ids);
  const auto remove = fmt::format("DELETE FROM pganalytics.{} WHERE {} = $1 AND {} <> ALL ($2::bigint[])", link.table,
                                  link.owner_column, link.item_column);
  co_await conn.exec(remove.c_str(), owner, list);
  const auto add = fmt::format("INSERT INTO pganalytics.{} ({}, {}) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
                               link.table, link.owner_column, link.item_column);
  co_await conn.exec(add.c_str(), owner, list);
  co_return std::nullopt;
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
  co_return co_await first_unknown(conn, "servers", server_ids);
}

awaitable<Outcome<std::vector<std::int64_t>>> set_user_servers(AsyncConnection& conn, std::int64_t user_id,
                                                               const std::vector<std::int64_t>& server_ids) {
  Outcome<std::vector<std::int64_t>> outcome = Refused{Refusal::NotFound};
  co_await db::in_transaction(conn, [&]() -> awaitable<void> {
    const auto user = co_await lock_user(conn, user_id);
    if (!user) co_return;
    if (const auto refused = co_await replace_links(conn, kUserServers, user_id, server_ids)) {
      outcome = *refused;
      co_return;
    }
    auto r = co_await conn.exec(
        "SELECT coalesce(array_agg(server_id ORDER BY server_id), '{}')::text FROM pganalytics.user_servers "
        "WHERE user_id = $1",
        user_id);
    outcome = db::parse_id_array(r.get(0, 0));
  });
  co_return outcome;
}

// --- teams ---

namespace {

awaitable<std::string> teams_json(AsyncConnection& conn, std::optional<std::int64_t> only) {
  auto r = co_await conn.exec(
      "SELECT coalesce(json_agg(json_build_object('id', t.id, 'name', t.name, 'created_at', t.created_at,"
      " 'user_ids', (SELECT coalesce(json_agg(m.user_id ORDER BY m.user_id), '[]'::json)"
      "   FROM pganalytics.team_members m WHERE m.team_id = t.id),"
      " 'server_ids', (SELECT coalesce(json_agg(s.server_id ORDER BY s.server_id), '[]'::json)"
      "   FROM pganalytics.team_servers s WHERE s.team_id = t.id)) ORDER BY t.name), '[]'::json)::text "
      "FROM pganalytics.teams t WHERE $1::bigint IS NULL OR t.id = $1::bigint",
      only);
  co_return std::string(r.get(0, 0));
}

awaitable<Outcome<bool>> set_team_links(AsyncConnection& conn, const LinkTable& link, std::int64_t team_id,
                                        const std::vector<std::int64_t>& ids) {
  Outcome<bool> outcome = Refused{Refusal::NotFound};
  co_await db::in_transaction(conn, [&]() -> awaitable<void> {
    auto team = co_await conn.exec("SELECT 1 FROM pganalytics.teams WHERE id = $1 FOR UPDATE", team_id);
    if (team.rows() == 0) co_return;
    const auto refused = co_await replace_links(conn, link, team_id, ids);
    if (refused) outcome = *refused;
    else outcome = true;
  });
  co_return outcome;
}

}  // namespace

awaitable<std::string> list_teams_json(AsyncConnection& conn) { co_return co_await teams_json(conn, std::nullopt); }

awaitable<std::optional<std::string>> team_json(AsyncConnection& conn, std::int64_t id) {
  const auto list = co_await teams_json(conn, id);
  if (list == "[]") co_return std::nullopt;
  co_return list.substr(1, list.size() - 2);
}

awaitable<Outcome<std::int64_t>> add_team(AsyncConnection& conn, const std::string& name) {
  auto r = co_await conn.exec(
      "INSERT INTO pganalytics.teams (name) VALUES ($1) ON CONFLICT (name) DO NOTHING RETURNING id", name);
  if (r.rows() == 0) co_return Refused{Refusal::NameTaken};
  co_return r.get_int(0, 0);
}

awaitable<bool> remove_team(AsyncConnection& conn, std::int64_t id) {
  auto r = co_await conn.exec("DELETE FROM pganalytics.teams WHERE id = $1 RETURNING 1", id);
  co_return r.rows() == 1;
}

awaitable<Outcome<bool>> set_team_members(AsyncConnection& conn, std::int64_t team_id,
                                          const std::vector<std::int64_t>& user_ids) {
  co_return co_await set_team_links(conn, kTeamMembers, team_id, user_ids);
}

awaitable<Outcome<bool>> set_team_servers(AsyncConnection& conn, std::int64_t team_id,
                                          const std::vector<std::int64_t>& server_ids) {
  co_return co_await set_team_links(conn, kTeamServers, team_id, server_ids);
}

}  // namespace pga::server::repo
