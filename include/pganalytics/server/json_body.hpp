// Reading request bodies: a JSON object, and its fields with their types and lengths checked.
// Every failure is a 400 ApiError that names the field.
#pragma once
#include <boost/json/object.hpp>

#include <string>
#include <string_view>

#include "pganalytics/net/http.hpp"

namespace pga::server {

boost::json::object parse_json_object(std::string_view body);
std::string required_string(const boost::json::object& object, std::string_view field, std::size_t max_length);
std::string optional_string(const boost::json::object& object, std::string_view field, std::size_t max_length);
std::string to_json(const boost::json::object& object);
net::Response json_response(int status, const boost::json::object& object);

}  // namespace pga::server
