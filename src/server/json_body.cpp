// Strict JSON request bodies: one object, no trailing data, no NUL in any string, string fields of
// bounded length, id lists of positive integers.
#include "pganalytics/server/json_body.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>

#include <algorithm>

namespace pga::server {
namespace {

constexpr std::size_t kMaxDepth = 32;

std::string quoted(std::string_view field) { return "\"" + std::string(field) + "\""; }

bool has_nul(std::string_view text) { return text.find('\0') != std::string_view::npos; }

// The path of a member, in the "a.b[2].c" form the errors use; a NUL in a name shows as \u0000.
std::string member_path(const std::string& parent, std::string_view key) {
  std::string name;
  for (char c : key) name += c == '\0' ? std::string("\\u0000") : std::string(1, c);
  return parent.empty() ? name : parent + "." + name;
}

void refuse_nul(const boost::json::value& value, const std::string& path, std::size_t depth) {
  if (depth > kMaxDepth) throw net::ApiError(400, "bad_json", "the body is nested too deeply");
  if (value.is_string()) {
    if (has_nul(value.get_string())) refuse_field(path, "contains a NUL character");
  } else if (value.is_array()) {
    const auto& array = value.get_array();
    for (std::size_t i = 0; i < array.size(); ++i)
      refuse_nul(array[i], path + "[" + std::to_string(i) + "]", depth + 1);
  } else if (value.is_object()) {
    for (const auto& member : value.get_object()) {
      const auto child = member_path(path, member.key());
      if (has_nul(member.key())) refuse_field(child, "is a member name with a NUL character");
      refuse_nul(member.value(), child, depth + 1);
    }
  }
}

std::vector<std::int64_t> ids_from(const boost::json::value& value, std::string_view field, std::size_t max_count) {
  if (!value.is_array()) refuse_field(field, "must be an array of ids");
  const auto& array = value.get_array();
  if (array.size() > max_count) refuse_field(field, "holds more than " + std::to_string(max_count) + " ids");
  std::vector<std::int64_t> ids;
  ids.reserve(array.size());
  for (std::size_t i = 0; i < array.size(); ++i) {
    const auto name = std::string(field) + "[" + std::to_string(i) + "]";
    const auto& item = array[i];
    if (!item.is_int64() && !item.is_uint64()) refuse_field(name, "must be an integer id");
    if ((item.is_int64() && item.get_int64() <= 0) || (item.is_uint64() && item.get_uint64() > INT64_MAX))
      refuse_field(name, "must be a positive id");
    const auto id = item.is_int64() ? item.get_int64() : static_cast<std::int64_t>(item.get_uint64());
    if (std::find(ids.begin(), ids.end(), id) != ids.end()) refuse_field(name, "repeats id " + std::to_string(id));
    ids.push_back(id);
  }
  return ids;
}

}  // namespace

void refuse_field(std::string_view field, const std::string& problem) {
  throw net::ApiError(400, "bad_field", quoted(field) + " " + problem);
}

boost::json::object parse_json_object(std::string_view body) {
  boost::system::error_code ec;
  auto value = boost::json::parse(body, ec);
  if (ec) throw net::ApiError(400, "bad_json", "the body is not valid JSON: " + ec.message());
  if (!value.is_object()) throw net::ApiError(400, "bad_json", "the body must be a JSON object");
  refuse_nul(value, "", 0);
  return std::move(value.as_object());
}

std::string optional_string(const boost::json::object& object, std::string_view field, std::size_t max_length) {
  auto it = object.find(field);
  if (it == object.end() || it->value().is_null()) return {};
  if (!it->value().is_string()) refuse_field(field, "must be a string");
  const auto& text = it->value().as_string();
  if (text.size() > max_length) refuse_field(field, "is longer than " + std::to_string(max_length) + " bytes");
  if (has_nul(text)) refuse_field(field, "contains a NUL character");
  return std::string(text);
}

std::string required_string(const boost::json::object& object, std::string_view field, std::size_t max_length) {
  auto text = optional_string(object, field, max_length);
  if (text.empty()) throw net::ApiError(400, "missing_field", quoted(field) + " is required");
  return text;
}

std::optional<bool> optional_bool(const boost::json::object& object, std::string_view field) {
  auto it = object.find(field);
  if (it == object.end() || it->value().is_null()) return std::nullopt;
  if (!it->value().is_bool()) refuse_field(field, "must be true or false");
  return it->value().get_bool();
}

std::vector<std::int64_t> required_ids(const boost::json::object& object, std::string_view field,
                                       std::size_t max_count) {
  auto it = object.find(field);
  if (it == object.end() || it->value().is_null())
    throw net::ApiError(400, "missing_field", quoted(field) + " is required");
  return ids_from(it->value(), field, max_count);
}

std::optional<std::vector<std::int64_t>> optional_ids(const boost::json::object& object, std::string_view field,
                                                      std::size_t max_count) {
  auto it = object.find(field);
  if (it == object.end() || it->value().is_null()) return std::nullopt;
  return ids_from(it->value(), field, max_count);
}

std::string to_json(const boost::json::object& object) { return boost::json::serialize(object); }

net::Response json_response(int status, const boost::json::object& object) {
  net::Response response;
  response.status = status;
  response.body = to_json(object);
  return response;
}

net::Response raw_json_response(int status, std::string body) {
  net::Response response;
  response.status = status;
  response.body = std::move(body);
  return response;
}

net::Response no_content() {
  net::Response response;
  response.status = 204;
  return response;
}

}  // namespace pga::server
