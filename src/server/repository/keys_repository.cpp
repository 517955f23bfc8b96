// SQL for what server replicas share and must not do twice: the internal CA and JWT signing
// keys, and storage maintenance.
#include "pganalytics/server/repository.hpp"

namespace pga::server::repo {
namespace {
// An arbitrary constant: the advisory lock replicas take while creating key material.
constexpr std::int64_t kKeyMaterialLock = 31082733449015923;
constexpr std::int64_t kMaintenanceLock = 31082733449015924;

std::string as_interval(Duration d) { return std::to_string(d.count()) + " milliseconds"; }
}  // namespace

awaitable<bool> try_lock_maintenance(AsyncConnection& conn) {
  auto r = co_await conn.exec("SELECT pg_try_advisory_lock($1::bigint)", kMaintenanceLock);
  co_return r.get(0, 0) == "t";
}

awaitable<void> unlock_maintenance(AsyncConnection& conn) {
  co_await conn.exec("SELECT pg_advisory_unlock($1::bigint)", kMaintenanceLock);
}

awaitable<std::int64_t> ensure_partitions(AsyncConnection& conn, int days_ahead) {
  auto r = co_await conn.exec("SELECT pganalytics.ensure_partitions($1)", days_ahead);
  co_return r.get_int(0, 0);
}

awaitable<std::int64_t> drop_expired_partitions(AsyncConnection& conn, Duration raw, Duration disk_usage,
                                                Duration rollup_1h) {
  auto r = co_await conn.exec(
      "SELECT count(*) FROM pganalytics.drop_expired_partitions($1::interval, $2::interval, $3::interval)",
      as_interval(raw), as_interval(disk_usage), as_interval(rollup_1h));
  co_return r.get_int(0, 0);
}

awaitable<std::int64_t> refresh_recent_rollups(AsyncConnection& conn, int hours) {
  auto r = co_await conn.exec(
      "SELECT pganalytics.refresh_rollups(now() - make_interval(hours => $1), now())", hours);
  co_return r.get_int(0, 0);
}

awaitable<void> lock_key_material(AsyncConnection& conn) {
  co_await conn.exec("SELECT pg_advisory_lock($1::bigint)", kKeyMaterialLock);
}

awaitable<void> unlock_key_material(AsyncConnection& conn) {
  co_await conn.exec("SELECT pg_advisory_unlock($1::bigint)", kKeyMaterialLock);
}

awaitable<std::optional<StoredCa>> load_ca(AsyncConnection& conn) {
  auto r = co_await conn.exec("SELECT certificate_pem, sealed_private_key FROM pganalytics.certificate_authority");
  if (r.rows() == 0) co_return std::nullopt;
  co_return StoredCa{std::string(r.get(0, 0)), std::string(r.get(0, 1))};
}

awaitable<void> store_ca(AsyncConnection& conn, const StoredCa& ca) {
  co_await conn.exec(
      "INSERT INTO pganalytics.certificate_authority (id, certificate_pem, sealed_private_key) VALUES (1, $1, $2)",
      ca.certificate_pem, ca.sealed_private_key);
}

awaitable<std::vector<StoredSigningKey>> load_signing_keys(AsyncConnection& conn) {
  auto r = co_await conn.exec(
      "SELECT kid, public_key_pem, sealed_private_key FROM pganalytics.signing_keys "
      "WHERE retired_at IS NULL OR retired_at > now() - interval '31 days' ORDER BY created_at, kid");
  std::vector<StoredSigningKey> keys;
  for (int i = 0; i < r.rows(); ++i)
    keys.push_back({std::string(r.get(i, 0)), std::string(r.get(i, 1)), std::string(r.get(i, 2))});
  co_return keys;
}

awaitable<void> store_signing_key(AsyncConnection& conn, const StoredSigningKey& key) {
  co_await conn.exec(
      "INSERT INTO pganalytics.signing_keys (kid, algorithm, public_key_pem, sealed_private_key) "
      "VALUES ($1, 'EdDSA', $2, $3)",
      key.kid, key.public_key_pem, key.sealed_private_key);
}

}  // namespace pga::server::repo
