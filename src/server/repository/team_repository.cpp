// SQL of teams: servers granted to every member at once (pganalytics.user_visible_servers joins
// them with the direct grants). Member and server lists are replaced whole, in one transaction.
#include "pganalytics/server/user_repository.hpp"

namespace pga::server::repo {
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

awaitable<bool> lock_team(AsyncConnection& conn, std::int64_t id) {
  auto r = co_await conn.exec("SELECT 1 FROM pganalytics.teams WHERE id = $1 FOR UPDATE", id);
  co_return r.rows() == 1;
}

awaitable<std::optional<std::size_t>> first_unknown_user(AsyncConnection& conn, const std::vector<std::int64_t>& ids) {
  auto r = co_await conn.exec(
      "SELECT min(n) FROM unnest($1::bigint[]) WITH ORDINALITY AS x(id, n) "
      "WHERE NOT EXISTS (SELECT 1 FROM pganalytics.users u WHERE u.id = x.id)",
      db::id_array(ids));
  if (r.is_null(0, 0)) co_return std::nullopt;
  co_return static_cast<std::size_t>(r.get_int(0, 0) - 1);
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
  Outcome<bool> outcome = Refused{Refusal::NotFound};
  co_await db::in_transaction(conn, [&]() -> awaitable<void> {
    const bool exists = co_await lock_team(conn, team_id);
    if (!exists) co_return;
    if (const auto unknown = co_await first_unknown_user(conn, user_ids)) {
      outcome = Refused{Refusal::UnknownId, *unknown};
      co_return;
    }
    const auto ids = db::id_array(user_ids);
    co_await conn.exec("DELETE FROM pganalytics.team_members WHERE team_id = $1 AND user_id <> ALL ($2::bigint[])",
                       team_id, ids);
    co_await conn.exec(
        "INSERT INTO pganalytics.team_members (team_id, user_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING",
        team_id, ids);
    outcome = true;
  });
  co_return outcome;
}

awaitable<Outcome<bool>> set_team_servers(AsyncConnection& conn, std::int64_t team_id,
                                          const std::vector<std::int64_t>& server_ids) {
  Outcome<bool> outcome = Refused{Refusal::NotFound};
  co_await db::in_transaction(conn, [&]() -> awaitable<void> {
    const bool exists = co_await lock_team(conn, team_id);
    if (!exists) co_return;
    if (const auto unknown = co_await first_unknown_server(conn, server_ids)) {
      outcome = Refused{Refusal::UnknownId, *unknown};
      co_return;
    }
    const auto ids = db::id_array(server_ids);
    co_await conn.exec("DELETE FROM pganalytics.team_servers WHERE team_id = $1 AND server_id <> ALL ($2::bigint[])",
                       team_id, ids);
    co_await conn.exec(
        "INSERT INTO pganalytics.team_servers (team_id, server_id) SELECT $1, unnest($2::bigint[]) "
        "ON CONFLICT DO NOTHING",
        team_id, ids);
    outcome = true;
  });
  co_return outcome;
}

}  // namespace pga::server::repo
