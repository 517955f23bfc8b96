// Reading request bodies: a JSON object, and its fields with their types and lengths checked.
// Every failure is a 400 ApiError that names the field. No string anywhere in a body (value or
// member name, at any depth) may hold a NUL character: PostgreSQL text cannot store one, and a
// layer that cut the string at it would see another value than the one checked.
#pragma once
#include <boost/json/object.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pganalytics/net/http.hpp"

namespace pga::server {

boost::json::object parse_json_object(std::string_view body);
std::string required_string(const boost::json::object& object, std::string_view field, std::size_t max_length);
std::string optional_string(const boost::json::object& object, std::string_view field, std::size_t max_length);
// nullopt when the field is absent or null; 400 when it is not a boolean.
std::optional<bool> optional_bool(const boost::json::object& object, std::string_view field);
// A JSON array of distinct positive integer ids (at most max_count); 400 naming "field[i]".
std::vector<std::int64_t> required_ids(const boost::json::object& object, std::string_view field,
                                       std::size_t max_count = 10'000);
// The same, or nullopt when the field is absent or null.
std::optional<std::vector<std::int64_t>> optional_ids(const boost::json::object& object, std::string_view field,
                                                      std::size_t max_count = 10'000);
// 400 bad_field naming `field`, for checks a handler makes itself.
[[noreturn]] void refuse_field(std::string_view field, const std::string& problem);

std::string to_json(const boost::json::object& object);
net::Response json_response(int status, const boost::json::object& object);
// A body PostgreSQL already built as JSON text.
net::Response raw_json_response(int status, std::string body);
net::Response no_content();

}  // namespace pga::server
