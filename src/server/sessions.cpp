// Token issuance and rotation. Refresh tokens are opaque random strings stored as SHA-256
// hashes; access tokens are short-lived JWTs signed by the newest key of the ring.
#include "pganalytics/server/sessions.hpp"

#include <fmt/format.h>

#include <chrono>

#include "pganalytics/net/http.hpp"
#include "pganalytics/security/random.hpp"

namespace pga::server {
namespace {

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hashed(const std::string& token) { return security::hex(security::token_hash(token)); }

std::int64_t seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

net::ApiError unauthorized(const std::string& code, const std::string& message) {
  return net::ApiError(401, code, message);
}

}  // namespace

std::string new_uuid() {
  auto bytes = security::random_bytes(16);
  bytes[6] = static_cast<char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  auto h = security::hex(bytes);
  return fmt::format("{}-{}-{}-{}-{}", h.substr(0, 8), h.substr(8, 4), h.substr(12, 4), h.substr(16, 4), h.substr(20));
}

std::string subject_of(const repo::RefreshOwner& owner) {
  return owner.user_id ? "user:" + std::to_string(*owner.user_id) : *owner.collector_id;
}

std::string issue_access_token(const ServerContext& ctx, const repo::RefreshOwner& owner) {
  const auto now = now_unix();
  security::Claims claims;
  claims.iss = kIssuer;
  claims.aud = owner.user_id ? kUserAudience : kAgentAudience;
  claims.sub = subject_of(owner);
  claims.typ = "access";
  claims.jti = security::base64url_encode(security::random_bytes(12));
  claims.iat = now;
  claims.nbf = now;
  claims.exp = now + seconds(ctx.config.access_token_ttl);
  return ctx.key_material.keys->sign(claims);
}

boost::asio::awaitable<TokenPair> start_session(ServerContext& ctx, db::AsyncConnection& conn,
                                                const repo::RefreshOwner& owner) {
  const auto refresh = security::new_opaque_token("pga_rt_");
  const auto refresh_hash = hashed(refresh);
  const auto family = new_uuid();
  co_await repo::insert_refresh_token(conn, refresh_hash, family, owner, seconds(ctx.config.refresh_token_ttl));
  co_return TokenPair{issue_access_token(ctx, owner), refresh, seconds(ctx.config.access_token_ttl)};
}

boost::asio::awaitable<TokenPair> refresh_session(ServerContext& ctx, db::AsyncConnection& conn,
                                                  const std::string& refresh_token,
                                                  const std::optional<std::string>& peer_collector_id,
                                                  const std::string& remote_addr) {
  const auto token_hash = hashed(refresh_token);
  auto row = co_await repo::find_refresh_token(conn, token_hash);
  if (!row) throw unauthorized("invalid_refresh_token", "the refresh token is not valid");
  const auto subject = subject_of(row->owner);
  if (row->owner.collector_id && peer_collector_id != row->owner.collector_id)
    throw net::ApiError(403, "identity_mismatch", "a collector's refresh token needs that collector's certificate");
  bool rotated = false;
  if (!row->rotated_or_revoked) rotated = co_await repo::mark_refresh_token_rotated(conn, row->id);
  if (!rotated) {
    co_await repo::revoke_refresh_family(conn, row->family_id);
    const repo::AuditEntry entry{subject, "auth.refresh_reuse", row->family_id, false, remote_addr};
    co_await repo::audit(conn, entry);
    throw unauthorized("refresh_token_reused",
                       "this refresh token was already used; the session has been revoked, sign in again");
  }
  if (row->family_expired) throw unauthorized("refresh_token_expired", "the session has expired, sign in again");
  if (row->owner.collector_id) {
    auto status = co_await repo::collector_status(conn, *row->owner.collector_id);
    if (status != "active") throw net::ApiError(403, "collector_disabled", "this collector is disabled or deleted");
  } else {
    auto user = co_await repo::find_user_by_id(conn, *row->owner.user_id);
    if (!user || user->disabled) throw net::ApiError(403, "user_disabled", "this user is disabled or deleted");
  }
  const auto next = security::new_opaque_token("pga_rt_");
  const auto next_hash = hashed(next);
  co_await repo::insert_rotated_refresh_token(conn, next_hash, row->id);
  co_return TokenPair{issue_access_token(ctx, row->owner), next, seconds(ctx.config.access_token_ttl)};
}

boost::asio::awaitable<bool> end_session(db::AsyncConnection& conn, const std::string& refresh_token,
                                         const repo::RefreshOwner& owner) {
  const auto token_hash = hashed(refresh_token);
  auto row = co_await repo::find_refresh_token(conn, token_hash);
  if (!row || subject_of(row->owner) != subject_of(owner)) co_return false;
  co_await repo::revoke_refresh_family(conn, row->family_id);
  co_return true;
}

}  // namespace pga::server
