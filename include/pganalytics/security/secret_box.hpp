// Secrets at rest (the CA key, JWT signing keys): AES-256-GCM under a master key that lives in a
// file outside the database, so replicas sharing that file can read what any of them sealed.
#pragma once
#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace pga::security {

inline constexpr std::size_t kMasterKeyBytes = 32;

// base64url(version 0x01 | 12-byte random nonce | ciphertext | 16-byte tag). `context` is
// authenticated but not stored: a box opens only with the context it was sealed with, so a
// sealed value cannot be moved to another row or purpose ("jwt-key:<kid>", "ca-key").
// Throws std::invalid_argument unless master_key has kMasterKeyBytes bytes.
std::string seal(std::string_view master_key, std::string_view plaintext, std::string_view context = {});

// The plaintext, or nullopt for a wrong key or context, an unknown version, bad encoding, or any
// change to the box. Throws std::invalid_argument only for a master key of the wrong size.
std::optional<std::string> open(std::string_view master_key, std::string_view sealed, std::string_view context = {});

// Reads the master key file, creating it first if it does not exist: 32 random bytes, mode 0600,
// written under a temporary name opened with O_EXCL and linked into place, so a concurrent
// starter never sees a partial file and never replaces another's key. Throws std::runtime_error
// (naming the file, never the key) if the file is not a regular file of exactly 32 bytes, or is
// accessible to group or others. To share one key between replicas, copy the file with its mode.
std::string load_or_create_master_key(const std::filesystem::path& path);

}  // namespace pga::security
