// JSON parsing whose doubles are exactly what the text says: Boost.JSON 1.81's own parser rounds
// many of them by an ulp or two, and a stored figure must equal what the agent read.
#pragma once
#include <boost/json/storage_ptr.hpp>
#include <boost/json/value.hpp>
#include <boost/system/error_code.hpp>

#include <string_view>

namespace pga {

// As boost::json::parse (one complete document, no trailing data), numbers with a fraction or
// exponent converted by std::from_chars (correctly rounded).
boost::json::value parse_json_exact(std::string_view text, boost::system::error_code& ec,
                                    boost::json::storage_ptr storage = {});

}  // namespace pga
