// Request helpers, ApiError and the single exception-to-response mapping: internals of an
// unexpected exception go to the log, the client only ever sees a generic 500.
#include "pganalytics/net/http.hpp"

#include "pganalytics/common/log.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url_view.hpp>

#include <algorithm>

namespace pga::net {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  auto lower = [](unsigned char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; };
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [&](char x, char y) { return lower(x) == lower(y); });
}

Response json_error(int status, std::string_view code, std::string_view message) {
  return Response{.status = status, .body = error_body(code, message)};
}

}  // namespace

std::optional<std::string_view> find_header(const Fields& fields, std::string_view name) {
  for (const auto& [key, value] : fields)
    if (iequals(key, name)) return value;
  return std::nullopt;
}

std::optional<std::string_view> Request::header(std::string_view name) const { return find_header(headers, name); }

std::optional<std::string_view> Request::query_param(std::string_view name) const {
  for (const auto& [key, value] : query)
    if (key == name) return value;
  return std::nullopt;
}

ContentEncoding content_encoding(std::string_view value) {
  auto first = value.find_first_not_of(" \t");
  if (first == std::string_view::npos) return ContentEncoding::Identity;
  value = value.substr(first, value.find_last_not_of(" \t") - first + 1);
  if (iequals(value, "identity")) return ContentEncoding::Identity;
  if (iequals(value, "gzip") || iequals(value, "x-gzip")) return ContentEncoding::Gzip;
  return ContentEncoding::Other;
}

const std::string& Request::path_param(std::string_view name) const {
  auto it = path_params.find(name);
  if (it == path_params.end()) throw std::logic_error("route " + route + " has no parameter " + std::string(name));
  return it->second;
}

void parse_target(std::string_view target, Request& request) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) throw ApiError(400, "bad_request", "malformed request target");
  request.target = std::string(target);
  request.path = std::string(url->encoded_path());
  request.query.clear();
  for (const auto& param : url->params())
    request.query.emplace_back(param.key, param.has_value ? param.value : std::string());
}

ApiError::ApiError(int status, std::string code, std::string message)
    : std::runtime_error(std::move(message)), status_(status), code_(std::move(code)) {}

ApiError& ApiError::with_header(std::string name, std::string value) {
  headers_.emplace_back(std::move(name), std::move(value));
  return *this;
}

std::string error_body(std::string_view code, std::string_view message) {
  boost::json::object inner;
  inner["code"] = code;
  inner["message"] = message;
  boost::json::object outer;
  outer["error"] = std::move(inner);
  return boost::json::serialize(outer);
}

Response to_response(std::exception_ptr error, std::string_view context) {
  if (!error) {
    log::error("{}: failed without an exception", context);
    return json_error(500, "internal_error", "internal server error");
  }
  try {
    std::rethrow_exception(error);
  } catch (const ApiError& e) {
    Response response = json_error(e.status(), e.code(), e.what());
    response.headers = e.headers();
    return response;
  } catch (const std::exception& e) {
    log::error("{}: {}", context, log::redact(e.what()));
  } catch (...) {
    log::error("{}: unknown exception", context);
  }
  return json_error(500, "internal_error", "internal server error");
}

}  // namespace pga::net
