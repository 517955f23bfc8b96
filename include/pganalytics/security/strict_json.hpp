// Strict JSON parsing for token headers and payloads: one object, nothing after it, no
// duplicate member names at any depth (so two readers can never disagree on a claim's value).
#pragma once
#include <boost/json/object.hpp>

#include <optional>
#include <string_view>

namespace pga::security {

std::optional<boost::json::object> parse_strict_json_object(std::string_view text);

}  // namespace pga::security
