// Every SQL statement the server issues (besides migrations and ingestion COPY) lives in
// src/server/repository/*.cpp behind these functions; handlers never see SQL.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pganalytics/common/units.hpp"
#include "pganalytics/db/async_pg.hpp"

namespace pga::server::repo {

using boost::asio::awaitable;
using db::AsyncConnection;

// --- server key material (certificate_authority, signing_keys) ---
struct StoredCa {
  std::string certificate_pem;
  std::string sealed_private_key;
};
struct StoredSigningKey {
  std::string kid;
  std::string public_key_pem;
  std::string sealed_private_key;
};
// Serialises replicas creating key material at the same time.
awaitable<void> lock_key_material(AsyncConnection& conn);
awaitable<void> unlock_key_material(AsyncConnection& conn);
awaitable<std::optional<StoredCa>> load_ca(AsyncConnection& conn);
awaitable<void> store_ca(AsyncConnection& conn, const StoredCa& ca);
awaitable<std::vector<StoredSigningKey>> load_signing_keys(AsyncConnection& conn);  // newest last
awaitable<void> store_signing_key(AsyncConnection& conn, const StoredSigningKey& key);

// --- enrolment tokens ---
awaitable<void> create_enrollment_token(AsyncConnection& conn, const std::string& token_hash, std::int64_t ttl_seconds,
                                        int uses, const std::string& created_by);
// A valid token with a use left (read only: checked before the request body is even read).
awaitable<bool> enrollment_token_usable(AsyncConnection& conn, const std::string& token_hash);
// Takes one use of a valid token (not expired, not revoked, uses left); false when none.
awaitable<bool> consume_enrollment_token(AsyncConnection& conn, const std::string& token_hash);

// --- collectors and monitored servers ---
struct NewCollector {
  std::string id;
  std::string name;
  std::string hostname;
  std::string agent_version;
  std::string certificate_serial;
  std::int64_t certificate_expires_at;
};
awaitable<void> create_collector(AsyncConnection& conn, const NewCollector& collector);
// "active", "disabled", or nullopt for an unknown or deleted collector.
awaitable<std::optional<std::string>> collector_status(AsyncConnection& conn, const std::string& collector_id);
struct CollectorConfig {
  std::string config_json;  // {"<family>": {"interval": "60s", "enabled": true}, ...}
  std::int64_t version;
};
awaitable<std::optional<CollectorConfig>> collector_config(AsyncConnection& conn, const std::string& collector_id);
// Replaces the settings and bumps config_version; nullopt when there is no such collector.
awaitable<std::optional<std::int64_t>> update_collector_config(AsyncConnection& conn, const std::string& collector_id,
                                                               const std::string& config_json);
awaitable<void> record_collector_certificate(AsyncConnection& conn, const std::string& collector_id,
                                             const std::string& serial, std::int64_t expires_at);
// Lifecycle (admins). Each returns false when there is no such (undeleted) collector.
awaitable<bool> set_collector_status(AsyncConnection& conn, const std::string& collector_id, const std::string& status);
// Renames the collector and the monitored server it created.
awaitable<bool> rename_collector(AsyncConnection& conn, const std::string& collector_id, const std::string& name);
// keep_data: the collector is marked deleted (refused from then on) and its server with every
// sample stays readable; otherwise the server, its instances and every metric row go too.
awaitable<bool> delete_collector(AsyncConnection& conn, const std::string& collector_id, bool keep_data);

// --- users ---
struct UserRow {
  std::int64_t id;
  std::string username;
  std::string password_hash;
  std::string role;
  bool disabled;
};
awaitable<std::int64_t> create_user(AsyncConnection& conn, const std::string& username, const std::string& password_hash,
                                    const std::string& role);
awaitable<std::optional<UserRow>> find_user_by_name(AsyncConnection& conn, const std::string& username);
awaitable<std::optional<UserRow>> find_user_by_id(AsyncConnection& conn, std::int64_t id);
awaitable<void> set_user_password(AsyncConnection& conn, std::int64_t id, const std::string& password_hash);
awaitable<void> touch_user_login(AsyncConnection& conn, std::int64_t id);

// --- access scopes (see access.hpp) ---
// The servers granted to a user, directly or through a team; admins see every server anyway.
awaitable<std::vector<std::int64_t>> granted_servers(AsyncConnection& conn, std::int64_t user_id);
awaitable<bool> server_exists(AsyncConnection& conn, std::int64_t server_id);
awaitable<std::optional<std::int64_t>> server_of_instance(AsyncConnection& conn, std::int64_t instance_id);
awaitable<std::optional<std::int64_t>> server_of_collector(AsyncConnection& conn, const std::string& collector_id);

// Who owns a session (and its refresh tokens): a user or a collector. Sessions, refresh tokens,
// login budgets: session_repository.hpp.
struct RefreshOwner {
  std::optional<std::int64_t> user_id;
  std::optional<std::string> collector_id;
};

// --- storage maintenance (the SQL functions of migration 0003) ---
awaitable<bool> try_lock_maintenance(AsyncConnection& conn);
awaitable<void> unlock_maintenance(AsyncConnection& conn);
awaitable<std::int64_t> ensure_partitions(AsyncConnection& conn, int days_ahead);
awaitable<std::int64_t> drop_expired_partitions(AsyncConnection& conn, Duration raw, Duration disk_usage,
                                                Duration rollup_1h);
awaitable<std::int64_t> refresh_recent_rollups(AsyncConnection& conn, int hours);

// --- audit trail (reading, verifying and pruning it: audit_repository.hpp) ---
// One event. Never put a secret (password, token) in any field.
struct AuditEntry {
  std::string actor;        // "user:NAME", "collector:ID", "cli", "anonymous", ...
  std::string action;       // "auth.login", "user.create", "collector.disable", "alert_rule.update", ...
  std::string target;       // what it acted on: a user name, a collector id, a rule id
  bool success;
  std::string remote_addr;
  std::string detail_json = "{}";  // a JSON object with anything else worth keeping
  std::int64_t count = 1;          // events this row stands for (aggregated failures)
};
// Appends the entry to the hash-chained audit log (in the caller's transaction, if any: the row
// and the chain lock go with it). Any handler may call it, e.g. an alert rule change:
//   co_await repo::audit(conn, {caller.actor(), "alert_rule.update", std::to_string(id), true,
//                               request.remote_address, to_json({{"name", name}})});
awaitable<void> audit(AsyncConnection& conn, const AuditEntry& entry);

}  // namespace pga::server::repo
