// Access and refresh tokens for users and collectors. A session is a refresh-token family: every
// access token names it (sid), so revoking it (logout, reuse, a disabled user) stops its access
// tokens at the next request. A refresh rotates the token in one transaction; presented again
// within refresh_grace (its answer was lost) it answers the same new pair, re-derived from the
// presented token with the session secret, never stored; presented later, it revokes the session.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <optional>
#include <string>

#include "pganalytics/server/context.hpp"
#include "pganalytics/server/repository.hpp"

namespace pga::server {

struct TokenPair {
  std::string access_token;
  std::string refresh_token;
  std::int64_t expires_in;  // seconds of validity of the access token
  std::string session_id;
};

std::string new_uuid();
// "user:<id>" or the collector id: the JWT subject of a refresh-token owner.
std::string subject_of(const repo::RefreshOwner& owner);

// A new session with its first refresh token, and an access token naming it.
boost::asio::awaitable<TokenPair> start_session(ServerContext& ctx, db::AsyncConnection& conn,
                                                const repo::RefreshOwner& owner, const std::string& remote_addr);

// Rotates `refresh_token` (its own transaction). `peer_collector_id` is the verified client
// certificate's collector, if any: a collector's refresh token is only accepted over that
// collector's own certificate. A disabled collector is refused (403) without using the token
// up. Throws ApiError 401/403 on failure; reuse revokes the session and is audited.
boost::asio::awaitable<TokenPair> refresh_session(ServerContext& ctx, db::AsyncConnection& conn,
                                                  const std::string& refresh_token,
                                                  const std::optional<std::string>& peer_collector_id,
                                                  const std::string& remote_addr);

// The session `refresh_token` belongs to, if it is one of `owner`'s.
boost::asio::awaitable<std::optional<std::string>> session_of(db::AsyncConnection& conn,
                                                              const std::string& refresh_token,
                                                              const repo::RefreshOwner& owner);

}  // namespace pga::server
