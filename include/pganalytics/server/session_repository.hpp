// SQL of sign-in: sessions (one per login or enrolment, named by every access token issued in
// it), their rotating refresh tokens, the principal checks authorize() makes on every request,
// and the login attempt budgets shared by every replica.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pganalytics/common/server_config.hpp"
#include "pganalytics/db/async_pg.hpp"
#include "pganalytics/server/repository.hpp"

namespace pga::server::repo {

// --- sessions and refresh tokens ---
awaitable<void> insert_session(AsyncConnection& conn, const std::string& session_id, const RefreshOwner& owner,
                               std::int64_t ttl_seconds, const std::string& remote_addr);
awaitable<void> insert_refresh_token(AsyncConnection& conn, const std::string& token_hash,
                                     const std::string& session_id, const RefreshOwner& owner);

struct RefreshRow {
  std::int64_t id;
  std::string session_id;
  RefreshOwner owner;
  bool rotated;                 // traded in already
  bool revoked;                 // the token or its session was revoked
  bool expired;                 // the session's absolute lifetime is over
  std::int64_t rotated_at = 0;  // unix seconds, when rotated
  double seconds_since_rotation = 0;
  bool successor_used = false;  // the token it was traded for was traded in (or revoked) too
};
// The token's row, locked until the transaction ends (run it inside one).
awaitable<std::optional<RefreshRow>> lock_refresh_token(AsyncConnection& conn, const std::string& token_hash);
// Marks the token rotated, stores its successor's hash in the same session and notes the use on
// the session; returns the rotation time (unix seconds).
awaitable<std::int64_t> rotate_refresh_token(AsyncConnection& conn, std::int64_t id, const std::string& next_hash,
                                             const std::string& remote_addr);

// Revocation: access tokens naming a revoked session are refused from the next request on.
awaitable<void> revoke_session(AsyncConnection& conn, const std::string& session_id, const std::string& reason);
awaitable<std::int64_t> revoke_user_sessions(AsyncConnection& conn, std::int64_t user_id, const std::string& reason,
                                             const std::optional<std::string>& except_session = std::nullopt);
awaitable<std::int64_t> revoke_collector_sessions(AsyncConnection& conn, const std::string& collector_id,
                                                  const std::string& reason);
// The user's live sessions as a JSON array: id, created_at, created_addr, last_used_at,
// last_used_addr, expires_at, current.
awaitable<std::string> list_user_sessions(AsyncConnection& conn, std::int64_t user_id,
                                          const std::optional<std::string>& current_session);
// Revokes one live session of the user; false when the user has no such session.
awaitable<bool> revoke_own_session(AsyncConnection& conn, std::int64_t user_id, const std::string& session_id);

// --- the principal behind a request ---
struct SessionUser {
  UserRow user;
  bool session_live;                  // the access token's session exists, is the user's, unrevoked, unexpired
  std::vector<std::int64_t> servers;  // granted directly or through teams (sorted)
};
awaitable<std::optional<SessionUser>> user_with_session(AsyncConnection& conn, std::int64_t user_id,
                                                        const std::string& session_id);

struct CollectorSession {
  std::string status;  // "active" or "disabled"
  bool session_live;
};
// nullopt for an unknown or deleted collector.
awaitable<std::optional<CollectorSession>> collector_with_session(AsyncConnection& conn,
                                                                  const std::string& collector_id,
                                                                  const std::string& session_id);

struct ApiTokenUse {
  std::int64_t token_id;
  std::string role;
  std::optional<std::vector<std::int64_t>> token_servers;  // a narrower scope, if the token has one
  bool usable;                                             // neither revoked nor expired
  UserRow owner;
  std::vector<std::int64_t> owner_servers;                 // the owner's grants (sorted)
};
// Looks an API token up by hash and notes its use (time and address, at most once a minute per
// address, so a busy script does not write on every request).
awaitable<std::optional<ApiTokenUse>> use_api_token(AsyncConnection& conn, const std::string& token_hash,
                                                    const std::string& remote_addr);

// --- login attempt budgets (pganalytics.login_attempt) ---
// Counts one attempt; 0 when it may be checked, else the seconds until the spent budget renews.
awaitable<std::int64_t> take_login_attempt(AsyncConnection& conn, const std::string& username,
                                           const std::string& address_key, const LoginBudgets& budgets);
awaitable<void> login_succeeded(AsyncConnection& conn, const std::string& username, const std::string& address_key);
// Removes budget rows whose window is over; returns how many.
awaitable<std::int64_t> prune_login_attempts(AsyncConnection& conn, Duration window);
// Removes sessions (with their refresh tokens) that ended more than a day ago.
awaitable<std::int64_t> prune_sessions(AsyncConnection& conn);

}  // namespace pga::server::repo
