// Strict parsing and printing of the durations ("500ms", "60s", "7d") and sizes ("512MiB")
// used in configuration files and on the command line.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pga {

using Duration = std::chrono::milliseconds;

// Accepts an unsigned integer followed by one unit: ms, s, m, h, d. No spaces, no sign, no
// fractions, no overflow. Returns nullopt for anything else.
std::optional<Duration> parse_duration(std::string_view text);
// The shortest exact spelling: 90000ms -> "90s", 3600000ms -> "1h".
std::string format_duration(Duration d);

// Accepts an unsigned integer followed by B, KiB, MiB, GiB, TiB (or kB, MB, GB, TB as powers
// of 1000). Returns nullopt for anything else.
std::optional<std::uint64_t> parse_size(std::string_view text);
std::string format_size(std::uint64_t bytes);

}  // namespace pga
