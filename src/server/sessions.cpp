// Token issuance and rotation. Refresh tokens are opaque strings stored as SHA-256 hashes; the
// token a rotation hands out is HMAC(session secret, presented token), and the access token's
// claims (iat from the rotation time, jti from the same HMAC) are fixed too, so a repeated
// refresh within the grace window re-derives the very same pair (Ed25519 signatures are
// deterministic) while the database holds nothing usable.
#include "pganalytics/server/sessions.hpp"

#include <fmt/format.h>

#include <chrono>

#include "pganalytics/net/http.hpp"
#include "pganalytics/security/random.hpp"
#include "pganalytics/server/session_repository.hpp"

namespace pga::server {
namespace {

std::int64_t now_unix() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string hashed(const std::string& token) { return security::hex(security::token_hash(token)); }

std::int64_t seconds(Duration d) { return std::chrono::duration_cast<std::chrono::seconds>(d).count(); }

std::string derived(const ServerContext& ctx, std::string_view purpose, const std::string& presented) {
  return security::hmac_sha256(ctx.session_secret, std::string(purpose) + '\n' + presented);
}

std::string issue_access_token(const ServerContext& ctx, const repo::RefreshOwner& owner,
                               const std::string& session_id, std::int64_t issued_at, std::string jti) {
  security::Claims claims;
  claims.iss = kIssuer;
  claims.aud = owner.user_id ? kUserAudience : kAgentAudience;
  claims.sub = subject_of(owner);
  claims.typ = "access";
  claims.jti = std::move(jti);
  claims.iat = issued_at;
  claims.nbf = issued_at;
  claims.exp = issued_at + seconds(ctx.config.access_token_ttl);
  claims.sid = session_id;
  return ctx.key_material.keys->sign(claims);
}

// The refresh token a rotation of `presented` hands out.
std::string successor_of(const ServerContext& ctx, const std::string& presented) {
  return "pga_rt_" + security::base64url_encode(derived(ctx, "refresh", presented));
}

// The pair a rotation of `presented` at `rotated_at` answers, the first time and every time again.
TokenPair rotated_pair(const ServerContext& ctx, const repo::RefreshRow& row, const std::string& presented,
                       std::int64_t rotated_at) {
  const auto jti = security::base64url_encode(derived(ctx, "jti", presented).substr(0, 12));
  const auto ttl = seconds(ctx.config.access_token_ttl);
  return TokenPair{issue_access_token(ctx, row.owner, row.session_id, rotated_at, jti),
                   successor_of(ctx, presented),
                   std::max<std::int64_t>(1, ttl - (now_unix() - rotated_at)), row.session_id};
}

net::ApiError unauthorized(const std::string& code, const std::string& message) {
  return net::ApiError(401, code, message);
}

// Why the owner may not refresh now, if so; checked before the token is used up.
boost::asio::awaitable<std::optional<net::ApiError>> owner_refusal(db::AsyncConnection& conn,
                                                                   const repo::RefreshOwner& owner) {
  if (owner.collector_id) {
    const auto status = co_await repo::collector_status(conn, *owner.collector_id);
    if (status != "active")
      co_return net::ApiError(403, "collector_disabled", "this collector is disabled or deleted")
          .with_header("Retry-After", "10");
    co_return std::nullopt;
  }
  const auto user = co_await repo::find_user_by_id(conn, *owner.user_id);
  if (!user || user->disabled) co_return unauthorized("user_disabled", "this user is disabled or deleted");
  co_return std::nullopt;
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

boost::asio::awaitable<TokenPair> start_session(ServerContext& ctx, db::AsyncConnection& conn,
                                                const repo::RefreshOwner& owner, const std::string& remote_addr) {
  const auto refresh = security::new_opaque_token("pga_rt_");
  const auto session_id = new_uuid();
  co_await repo::insert_session(conn, session_id, owner, seconds(ctx.config.refresh_token_ttl), remote_addr);
  co_await repo::insert_refresh_token(conn, hashed(refresh), session_id, owner);
  const auto jti = security::base64url_encode(security::random_bytes(12));
  co_return TokenPair{issue_access_token(ctx, owner, session_id, now_unix(), jti), refresh,
                      seconds(ctx.config.access_token_ttl), session_id};
}

boost::asio::awaitable<TokenPair> refresh_session(ServerContext& ctx, db::AsyncConnection& conn,
                                                  const std::string& refresh_token,
                                                  const std::optional<std::string>& peer_collector_id,
                                                  const std::string& remote_addr) {
  std::optional<net::ApiError> failure;
  TokenPair pair;
  co_await db::in_transaction(conn, [&]() -> boost::asio::awaitable<void> {
    const auto row = co_await repo::lock_refresh_token(conn, hashed(refresh_token));
    if (!row) {
      failure = unauthorized("invalid_refresh_token", "the refresh token is not valid");
      co_return;
    }
    if (row->owner.collector_id && peer_collector_id != row->owner.collector_id) {
      failure = net::ApiError(403, "identity_mismatch", "a collector's refresh token needs that collector's certificate");
      co_return;
    }
    if (row->revoked) {
      failure = unauthorized("session_revoked", "this session was signed out or revoked; sign in again");
      co_return;
    }
    if (row->expired) {
      failure = unauthorized("refresh_token_expired", "the session has expired, sign in again");
      co_return;
    }
    failure = co_await owner_refusal(conn, row->owner);
    if (failure) co_return;
    if (!row->rotated) {
      const auto next_hash = hashed(successor_of(ctx, refresh_token));
      const auto rotated_at = co_await repo::rotate_refresh_token(conn, row->id, next_hash, remote_addr);
      pair = rotated_pair(ctx, *row, refresh_token, rotated_at);
      co_return;
    }
    if (row->seconds_since_rotation <= static_cast<double>(seconds(ctx.config.refresh_grace)) &&
        !row->successor_used) {
      pair = rotated_pair(ctx, *row, refresh_token, row->rotated_at);  // the answer was lost: the same again
      co_return;
    }
    co_await repo::revoke_session(conn, row->session_id, "refresh token reuse");
    const repo::AuditEntry entry{subject_of(row->owner), "auth.refresh_reuse", row->session_id, false, remote_addr};
    co_await repo::audit(conn, entry);
    failure = unauthorized("refresh_token_reused",
                           "this refresh token was already used; the session has been revoked, sign in again");
  });
  if (failure) throw *failure;
  co_return pair;
}

boost::asio::awaitable<std::optional<std::string>> session_of(db::AsyncConnection& conn,
                                                              const std::string& refresh_token,
                                                              const repo::RefreshOwner& owner) {
  const auto token_hash = hashed(refresh_token);
  auto lookup = co_await repo::lock_refresh_token(conn, token_hash);
  if (!lookup || subject_of(lookup->owner) != subject_of(owner)) co_return std::nullopt;
  co_return lookup->session_id;
}

}  // namespace pga::server
