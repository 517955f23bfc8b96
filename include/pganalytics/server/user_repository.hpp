// SQL of user management (issue 14.3): users, the servers granted to them directly or through
// teams, and API tokens. Lists come back as JSON text built by PostgreSQL. Expected failures are
// typed refusals the handlers map to statuses.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "pganalytics/db/async_pg.hpp"
#include "pganalytics/server/repository.hpp"

namespace pga::server::repo {

enum class Refusal {
  NotFound,     // no such user, team or token
  NameTaken,    // a user or team of that name exists
  LastAdmin,    // the change would leave no enabled admin
  UnknownId,    // an id in a list names nothing (see Refused::index)
};
struct Refused {
  Refusal refusal;
  std::size_t index = 0;  // for UnknownId: the position in the list
};
template <typename T>
using Outcome = std::variant<T, Refused>;

// --- users ---
// One user ({"id","username","role","disabled","created_at","last_login_at","server_ids","team_ids"})
// or all of them as an array.
awaitable<std::optional<std::string>> user_json(AsyncConnection& conn, std::int64_t id);
awaitable<std::string> list_users_json(AsyncConnection& conn);
awaitable<Outcome<std::int64_t>> add_user(AsyncConnection& conn, const std::string& username,
                                          const std::string& password_hash, const std::string& role);
struct UserChange {
  std::optional<std::string> role;
  std::optional<bool> disabled;
  std::optional<std::string> password_hash;
};
// Applies the change in one transaction; refuses to demote or disable the last enabled admin.
awaitable<Outcome<UserRow>> change_user(AsyncConnection& conn, std::int64_t id, const UserChange& change);
awaitable<Outcome<UserRow>> remove_user(AsyncConnection& conn, std::int64_t id);
// Replaces the servers granted directly to the user.
awaitable<Outcome<std::vector<std::int64_t>>> set_user_servers(AsyncConnection& conn, std::int64_t user_id,
                                                               const std::vector<std::int64_t>& server_ids);
// The first of `server_ids` that names no server (its position), if any.
awaitable<std::optional<std::size_t>> first_unknown_server(AsyncConnection& conn,
                                                           const std::vector<std::int64_t>& server_ids);

// --- teams ---
// [{"id","name","created_at","user_ids","server_ids"}]
awaitable<std::string> list_teams_json(AsyncConnection& conn);
awaitable<std::optional<std::string>> team_json(AsyncConnection& conn, std::int64_t id);
awaitable<Outcome<std::int64_t>> add_team(AsyncConnection& conn, const std::string& name);
awaitable<bool> remove_team(AsyncConnection& conn, std::int64_t id);
awaitable<Outcome<bool>> set_team_members(AsyncConnection& conn, std::int64_t team_id,
                                          const std::vector<std::int64_t>& user_ids);
awaitable<Outcome<bool>> set_team_servers(AsyncConnection& conn, std::int64_t team_id,
                                          const std::vector<std::int64_t>& server_ids);

// --- API tokens ---
struct NewApiToken {
  std::int64_t user_id;
  std::string name;
  std::string role;
  std::optional<std::vector<std::int64_t>> server_ids;
  std::int64_t ttl_seconds;
  std::string token_hash;  // hex of SHA-256; the token itself is never stored
  std::string created_by;
};
// {"id","name","role","expires_at","user_id","server_ids"} of the new token.
awaitable<std::string> add_api_token(AsyncConnection& conn, const NewApiToken& token);
// Every token of `owner` (all tokens when nullopt): id, name, role, user_id, username,
// server_ids, created_at, expires_at, last_used_at, last_used_addr, revoked_at.
awaitable<std::string> list_api_tokens_json(AsyncConnection& conn, std::optional<std::int64_t> owner);
// Revokes a token of `owner` (any token when nullopt); its name when it was revoked now.
awaitable<std::optional<std::string>> revoke_api_token(AsyncConnection& conn, std::int64_t id,
                                                       std::optional<std::int64_t> owner);

}  // namespace pga::server::repo
