// Path and query parameters shared by the handlers: ids, times, counts and pages.
#include "pganalytics/server/request_params.hpp"

#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <charconv>
#include <cmath>
#include <string>

#include "pganalytics/security/random.hpp"
#include "pganalytics/server/ingest.hpp"

namespace pga::server {
namespace {

[[noreturn]] void bad(std::string_view name, const std::string& what) {
  throw net::ApiError(400, "bad_parameter", std::string(name) + " " + what);
}

std::string encode_cursor(const std::vector<std::string>& key) {
  boost::json::array values;
  for (const auto& value : key) values.emplace_back(value);
  return security::base64url_encode(boost::json::serialize(values));
}

std::vector<std::string> decode_cursor(std::string_view text, std::size_t key_size) {
  const auto decoded = security::base64url_decode(text);
  boost::system::error_code ec;
  const auto value = decoded ? boost::json::parse(*decoded, ec) : boost::json::value();
  const auto* values = !ec ? value.if_array() : nullptr;
  if (!values || values->size() != key_size) bad("cursor", "is not a cursor this listing gave");
  std::vector<std::string> key;
  for (const auto& item : *values) {
    if (!item.is_string()) bad("cursor", "is not a cursor this listing gave");
    key.emplace_back(item.get_string());
  }
  return key;
}

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
  double seconds = 0;
  if (auto us = ingest::parse_rfc3339(*text)) {
    seconds = static_cast<double>(*us) / 1e6;
  } else {
    auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), seconds);
    if (ec != std::errc() || end != text->data() + text->size() || !std::isfinite(seconds))
      bad(name, "must be RFC 3339 or unix seconds");
  }
  if (seconds < 0 || seconds > kLatestTime) bad(name, "must lie between 1970 and 9999");
  return seconds;
}

std::int64_t count_param(const net::Request& request, std::string_view name, std::int64_t fallback,
                         std::int64_t max) {
  auto text = request.query_param(name);
  if (!text) return fallback;
  const auto value = positive_id(*text);
  if (!value || *value > max) bad(name, "must be an integer from 1 to " + std::to_string(max));
  return *value;
}

PageRequest page_param(const net::Request& request, std::size_t key_size) {
  PageRequest page{kDefaultPage, {}, false};
  if (request.query_param("limit")) {
    page.limit = static_cast<std::size_t>(count_param(request, "limit", kDefaultPage, kMaxPage));
    page.explicit_paging = true;
  }
  if (auto text = request.query_param("cursor")) {
    page.after = decode_cursor(*text, key_size);
    page.explicit_paging = true;
  }
  return page;
}

net::Response page_response(const net::Request& request, const PageRequest& page, std::string items,
                            const std::optional<std::vector<std::string>>& next) {
  net::Response response;
  const auto cursor = next ? std::optional(encode_cursor(*next)) : std::nullopt;
  if (page.explicit_paging) {
    response.body = "{\"items\":" + items + ",\"next_cursor\":" +
                    (cursor ? boost::json::serialize(boost::json::string(*cursor)) : std::string("null")) + "}";
    return response;
  }
  response.body = std::move(items);
  if (cursor) {
    response.headers.emplace_back("X-Next-Cursor", *cursor);
    response.headers.emplace_back("Link", "<" + request.path + "?cursor=" + *cursor + ">; rel=\"next\"");
  }
  return response;
}

}  // namespace pga::server
