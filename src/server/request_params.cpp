// Path and query parameters shared by the handlers.
#include "pganalytics/server/request_params.hpp"

#include <charconv>
#include <cmath>
#include <string>

#include "pganalytics/server/ingest.hpp"

namespace pga::server {
namespace {

// Unix seconds of 0001-01-01 and 9999-12-31: beyond, PostgreSQL's to_timestamp refuses.
constexpr double kEarliest = -62135596800.0;
constexpr double kLatest = 253402300799.0;

}  // namespace

std::optional<std::int64_t> positive_id(std::string_view text) {
  std::int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (ec != std::errc() || end != text.data() + text.size() || id <= 0) return std::nullopt;
  return id;
}

std::int64_t path_id(const net::Request& request, std::string_view noun) {
  const auto id = positive_id(request.path_param("id"));
  if (!id) throw net::ApiError(404, "not_found", "no such " + std::string(noun));
  return *id;
}

std::optional<double> time_param(const net::Request& request, std::string_view name) {
  auto text = request.query_param(name);
  if (!text) return std::nullopt;
  if (auto us = ingest::parse_rfc3339(*text)) return static_cast<double>(*us) / 1e6;
  try {
    std::size_t used = 0;
    double seconds = std::stod(std::string(*text), &used);
    if (used == text->size() && std::isfinite(seconds) && seconds >= kEarliest && seconds <= kLatest) return seconds;
  } catch (const std::exception&) {
  }
  throw net::ApiError(400, "bad_parameter", std::string(name) + " must be RFC 3339 or unix seconds");
}

std::int64_t count_param(const net::Request& request, std::string_view name, std::int64_t fallback,
                         std::int64_t max) {
  auto text = request.query_param(name);
  if (!text) return fallback;
  const auto value = positive_id(*text);
  if (!value || *value > max)
    throw net::ApiError(400, "bad_parameter", std::string(name) + " must be an integer from 1 to " + std::to_string(max));
  return *value;
}

}  // namespace pga::server
