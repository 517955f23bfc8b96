// Strict JSON request bodies: one object, no trailing data, string fields of bounded length.
#include "pganalytics/server/json_body.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

namespace pga::server {

boost::json::object parse_json_object(std::string_view body) {
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec) throw net::ApiError(400, "bad_json", "the body is not valid JSON: " + ec.message());
  if (!value.is_object()) throw net::ApiError(400, "bad_json", "the body must be a JSON object");
  return std::move(value.as_object());
}

std::string optional_string(const boost::json::object& object, std::string_view field, std::size_t max_length) {
  auto it = object.find(field);
  if (it == object.end() || it->value().is_null()) return {};
  if (!it->value().is_string())
    throw net::ApiError(400, "bad_field", "\"" + std::string(field) + "\" must be a string");
  const auto& text = it->value().as_string();
  if (text.size() > max_length)
    throw net::ApiError(400, "bad_field",
                        "\"" + std::string(field) + "\" is longer than " + std::to_string(max_length) + " bytes");
  return std::string(text);
}

std::string required_string(const boost::json::object& object, std::string_view field, std::size_t max_length) {
  auto text = optional_string(object, field, max_length);
  if (text.empty()) throw net::ApiError(400, "missing_field", "\"" + std::string(field) + "\" is required");
  return text;
}

std::string to_json(const boost::json::object& object) { return boost::json::serialize(object); }

net::Response json_response(int status, const boost::json::object& object) {
  net::Response response;
  response.status = status;
  response.body = to_json(object);
  return response;
}

}  // namespace pga::server
