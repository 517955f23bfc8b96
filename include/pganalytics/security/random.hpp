// Random bytes, opaque tokens and their hashes, strict base64url: the small primitives the other
// security units and the server's token tables build on. Bytes travel as std::string.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace pga::security {

// n bytes from OpenSSL's CSPRNG; throws std::runtime_error if it cannot deliver.
std::string random_bytes(std::size_t n);

// RFC 4648 §5 without padding.
std::string base64url_encode(std::string_view bytes);
// The exact inverse of base64url_encode: nullopt for '=', whitespace, characters outside the
// alphabet, an impossible length, or unused trailing bits that are not zero (so every byte
// string has exactly one accepted encoding).
std::optional<std::string> base64url_decode(std::string_view text);

// prefix + base64url(32 random bytes): 256 bits, for enrolment, refresh and API tokens. The
// prefix ("pga_enr_", ...) lets operators and secret scanners recognise a leaked token.
std::string new_opaque_token(std::string_view prefix);

// Raw SHA-256 of a token (32 bytes, stored as bytea). Tokens carry 256 random bits, so a fast
// unsalted hash is enough: the database never holds a usable token.
std::string token_hash(std::string_view token);

// Raw HMAC-SHA256 (32 bytes) of `message` under `key`: values a server replica can derive again
// from what a client presents, without storing them.
std::string hmac_sha256(std::string_view key, std::string_view message);

// Lowercase hexadecimal.
std::string hex(std::string_view bytes);

// Compares in time independent of where the inputs differ; lengths are not treated as secret.
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace pga::security
