// First start creates the CA (10 years) and an Ed25519 signing key; later starts, and other
// replicas, open the sealed private keys with data_dir/master.key.
#include "pganalytics/server/key_material.hpp"

#include <filesystem>

#include "pganalytics/common/log.hpp"
#include "pganalytics/security/random.hpp"
#include "pganalytics/security/secret_box.hpp"
#include "pganalytics/server/repository.hpp"

namespace pga::server {
namespace {

constexpr std::string_view kCaContext = "ca-key";
std::string signing_key_context(const std::string& kid) { return "jwt-key:" + kid; }

std::string open_or_throw(const std::string& master_key, const std::string& sealed, std::string_view context) {
  auto opened = security::open(master_key, sealed, context);
  if (!opened)
    throw std::runtime_error(
        "cannot open the server's private keys with data_dir/master.key: every replica needs the same master.key");
  return *opened;
}

boost::asio::awaitable<KeyMaterial> load(db::AsyncConnection& conn, const std::string& master_key) {
  auto stored_ca = co_await repo::load_ca(conn);
  auto stored_keys = co_await repo::load_signing_keys(conn);
  if (!stored_ca || stored_keys.empty()) co_return KeyMaterial{};
  auto ca = std::make_shared<security::CertificateAuthority>(security::CertificateAuthority::load(
      stored_ca->certificate_pem, open_or_throw(master_key, stored_ca->sealed_private_key, kCaContext)));
  auto ring = std::make_shared<security::KeyRing>();
  for (const auto& key : stored_keys)
    ring->add_signing_key(key.kid, open_or_throw(master_key, key.sealed_private_key, signing_key_context(key.kid)));
  co_return KeyMaterial{ca, ring};
}

boost::asio::awaitable<void> create_missing(db::AsyncConnection& conn, const std::string& master_key) {
  auto existing_ca = co_await repo::load_ca(conn);
  if (!existing_ca) {
    auto ca = security::CertificateAuthority::create("pganalytics internal CA", std::chrono::hours(24 * 3650));
    const repo::StoredCa stored{ca.certificate_pem(), security::seal(master_key, ca.private_key_pem(), kCaContext)};
    co_await repo::store_ca(conn, stored);
    log::info("created the internal certificate authority");
  }
  auto keys = co_await repo::load_signing_keys(conn);
  if (keys.empty()) {
    auto kid = security::base64url_encode(security::random_bytes(9));
    auto private_pem = security::generate_ed25519_private_key_pem();
    security::KeyRing ring;
    ring.add_signing_key(kid, private_pem);
    const repo::StoredSigningKey stored{kid, *ring.public_key_pem(kid),
                                        security::seal(master_key, private_pem, signing_key_context(kid))};
    co_await repo::store_signing_key(conn, stored);
    log::info("created JWT signing key {}", kid);
  }
}

}  // namespace

std::string load_master_key(const std::string& data_dir) {
  std::filesystem::create_directories(data_dir);
  std::filesystem::permissions(data_dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  return security::load_or_create_master_key(std::filesystem::path(data_dir) / "master.key");
}

boost::asio::awaitable<KeyMaterial> load_or_create_key_material(db::AsyncConnection& conn,
                                                                const std::string& master_key) {
  auto material = co_await load(conn, master_key);
  if (material.ca) co_return material;
  co_await repo::lock_key_material(conn);
  std::exception_ptr failure;
  try {
    co_await create_missing(conn, master_key);
  } catch (...) {
    failure = std::current_exception();
  }
  co_await repo::unlock_key_material(conn);
  if (failure) std::rethrow_exception(failure);
  co_return co_await load(conn, master_key);
}

}  // namespace pga::server
