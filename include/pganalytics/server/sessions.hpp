// Access and refresh tokens for users and collectors: a session is a refresh-token family;
// every refresh rotates the token, and presenting a rotated token revokes the whole family.
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
};

std::string new_uuid();
// "user:<id>" or the collector id: the JWT subject of a refresh-token owner.
std::string subject_of(const repo::RefreshOwner& owner);

std::string issue_access_token(const ServerContext& ctx, const repo::RefreshOwner& owner);

// A new family with its first refresh token, and an access token.
boost::asio::awaitable<TokenPair> start_session(ServerContext& ctx, db::AsyncConnection& conn,
                                                const repo::RefreshOwner& owner);

// Rotates `refresh_token`. `peer_collector_id` is the verified client certificate's collector, if
// any: a collector's refresh token is only accepted over that collector's own certificate.
// Throws ApiError 401/403 on failure (reuse revokes the family and is audited).
boost::asio::awaitable<TokenPair> refresh_session(ServerContext& ctx, db::AsyncConnection& conn,
                                                  const std::string& refresh_token,
                                                  const std::optional<std::string>& peer_collector_id,
                                                  const std::string& remote_addr);

// Revokes the family of `refresh_token` if it belongs to `owner`; false otherwise.
boost::asio::awaitable<bool> end_session(db::AsyncConnection& conn, const std::string& refresh_token,
                                         const repo::RefreshOwner& owner);

}  // namespace pga::server
