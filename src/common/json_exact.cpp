// parse_json_exact: Boost.JSON's streaming parser with a handler that builds the same value as
// boost::json::parse but converts each double from its full text.
#include "pganalytics/common/json_exact.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/error.hpp>
#include <boost/json/value_stack.hpp>

#include <charconv>
#include <string>

namespace pga {
namespace {

namespace json = boost::json;
using boost::system::error_code;

struct ExactHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack stack;
  std::string number;  // the text of the number being read; the parser hands it out in parts

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) { return true; }
  bool on_object_end(std::size_t n, error_code&) { stack.push_object(n); return true; }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) { stack.push_array(n); return true; }
  bool on_key_part(json::string_view s, std::size_t, error_code&) { stack.push_chars(s); return true; }
  bool on_key(json::string_view s, std::size_t, error_code&) { stack.push_key(s); return true; }
  bool on_string_part(json::string_view s, std::size_t, error_code&) { stack.push_chars(s); return true; }
  bool on_string(json::string_view s, std::size_t, error_code&) { stack.push_string(s); return true; }
  bool on_number_part(json::string_view s, error_code&) {
    number.append(s.data(), s.size());
    return true;
  }
  bool on_int64(std::int64_t i, json::string_view, error_code&) {
    number.clear();
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, error_code&) {
    number.clear();
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double approximate, json::string_view s, error_code&) {
    number.append(s.data(), s.size());
    double exact = approximate;
    const auto [end, failure] = std::from_chars(number.data(), number.data() + number.size(), exact);
    // Out of range (1e999): keep the parser's value, as boost::json::parse would.
    stack.push_double(failure == std::errc{} && end == number.data() + number.size() ? exact : approximate);
    number.clear();
    return true;
  }
  bool on_bool(bool b, error_code&) { stack.push_bool(b); return true; }
  bool on_null(error_code&) { stack.push_null(); return true; }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }
};

}  // namespace

json::value parse_json_exact(std::string_view text, error_code& ec, json::storage_ptr storage) {
  json::basic_parser<ExactHandler> parser{json::parse_options{}};
  parser.handler().stack.reset(std::move(storage));
  const auto used = parser.write_some(false, text.data(), text.size(), ec);
  if (!ec && used < text.size()) ec = json::error::extra_data;
  if (ec) return nullptr;
  return parser.handler().stack.release();
}

}  // namespace pga
