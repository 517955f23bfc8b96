// Durations and sizes: one strict grammar, <digits><unit>, shared by config and CLI.
#include "pganalytics/common/units.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace pga {
namespace {

struct Unit {
  std::string_view suffix;
  std::uint64_t factor;
};

// Splits "123abc" into 123 and "abc"; fails on an empty number, a sign or overflow.
std::optional<std::pair<std::uint64_t, std::string_view>> split_number(std::string_view text) {
  std::uint64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end == text.data()) return std::nullopt;
  return std::pair{value, text.substr(static_cast<std::size_t>(end - text.data()))};
}

template <std::size_t N>
std::optional<std::uint64_t> parse_with_units(std::string_view text, const std::array<Unit, N>& units) {
  auto split = split_number(text);
  if (!split) return std::nullopt;
  for (const auto& unit : units) {
    if (split->second != unit.suffix) continue;
    if (split->first > UINT64_MAX / unit.factor) return std::nullopt;
    return split->first * unit.factor;
  }
  return std::nullopt;
}

template <std::size_t N>
std::string format_with_units(std::uint64_t value, const std::array<Unit, N>& units_largest_first) {
  for (const auto& unit : units_largest_first) {
    if (value != 0 && value % unit.factor == 0) return std::to_string(value / unit.factor) + std::string(unit.suffix);
  }
  const auto& smallest = units_largest_first.back();
  return std::to_string(value) + std::string(smallest.suffix);
}

constexpr std::array<Unit, 5> kDurationUnits{{
    {"d", 86'400'000}, {"h", 3'600'000}, {"m", 60'000}, {"s", 1'000}, {"ms", 1}}};
constexpr std::array<Unit, 9> kSizeUnits{{{"TiB", 1ULL << 40}, {"GiB", 1ULL << 30}, {"MiB", 1ULL << 20},
                                          {"KiB", 1ULL << 10}, {"TB", 1'000'000'000'000ULL},
                                          {"GB", 1'000'000'000ULL}, {"MB", 1'000'000ULL},
                                          {"kB", 1'000ULL}, {"B", 1}}};
constexpr std::array<Unit, 5> kBinarySizeUnits{{{"TiB", 1ULL << 40}, {"GiB", 1ULL << 30},
                                                {"MiB", 1ULL << 20}, {"KiB", 1ULL << 10}, {"B", 1}}};

}  // namespace

std::optional<Duration> parse_duration(std::string_view text) {
  auto ms = parse_with_units(text, kDurationUnits);
  if (!ms || *ms > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
  return Duration{static_cast<std::int64_t>(*ms)};
}

std::string format_duration(Duration d) {
  return format_with_units(static_cast<std::uint64_t>(d.count()), kDurationUnits);
}

std::optional<std::uint64_t> parse_size(std::string_view text) { return parse_with_units(text, kSizeUnits); }

std::string format_size(std::uint64_t bytes) { return format_with_units(bytes, kBinarySizeUnits); }

}  // namespace pga
