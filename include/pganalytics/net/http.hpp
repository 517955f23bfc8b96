// The HTTP vocabulary shared by the server, its handlers and the client: Request, Response,
// ApiError and the one mapping from an exception to the JSON error response (CONTRACT §4).
#pragma once
#include <exception>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pga::net {

// Header or query fields in arrival order (a name may repeat).
using Fields = std::vector<std::pair<std::string, std::string>>;

// The first header called `name`, compared case-insensitively as HTTP requires.
std::optional<std::string_view> find_header(const Fields& fields, std::string_view name);

struct Request {
  std::string method;                              // as sent, e.g. "POST"
  std::string target;                              // raw request target, e.g. "/a/b?x=1"
  std::string path;                                // target without query, still percent-encoded
  Fields query;                                    // decoded query parameters, in order
  Fields headers;
  std::string body;                                // once read (BodyReader), inflated if it was gzip
  std::string remote_address;                      // peer IP address
  // The verified client certificate's identity (net::verified_client_identity), else nullopt.
  std::optional<std::string> peer_certificate_cn;
  std::map<std::string, std::string, std::less<>> path_params;  // decoded, filled by the Router
  std::string route;                               // matched pattern; label metrics with this

  std::optional<std::string_view> header(std::string_view name) const;
  std::optional<std::string_view> query_param(std::string_view name) const;
  // A route's own {name}: asking for one the pattern lacks is a programming error (500).
  const std::string& path_param(std::string_view name) const;
};

enum class ContentEncoding { Identity, Gzip, Other };

// Classifies a Content-Encoding header value; absent or empty is Identity.
ContentEncoding content_encoding(std::string_view header_value);

// Splits a request target into path and decoded query; a malformed target is a 400 ApiError.
void parse_target(std::string_view target, Request& request);

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Fields headers;  // extra headers (ETag, Retry-After, ...); framing headers are the server's
};

// An expected failure a client should see: its status, a snake_case code and a human message.
class ApiError : public std::runtime_error {
 public:
  ApiError(int status, std::string code, std::string message);

  int status() const noexcept { return status_; }
  const std::string& code() const noexcept { return code_; }
  const Fields& headers() const noexcept { return headers_; }
  // Adds a response header, e.g. `throw ApiError(503, ...).with_header("Retry-After", "5");`
  ApiError& with_header(std::string name, std::string value);

 private:
  int status_;
  std::string code_;
  Fields headers_;
};

// Exactly {"error":{"code":"...","message":"..."}}, with JSON escaping.
std::string error_body(std::string_view code, std::string_view message);

// The one place an exception becomes a response: ApiError keeps its status, code and headers;
// anything else is logged with `context` and answered 500 internal_error with a generic message.
Response to_response(std::exception_ptr error, std::string_view context = {});

}  // namespace pga::net
