// The HTTPS client the agent uses: TLS 1.3 to one server, verified against the given CA and host
// name, keep-alive with one transparent reconnect, gzip bodies, a deadline on every request.
#pragma once
#include "pganalytics/net/http.hpp"

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

namespace boost::asio::ssl {
class context;
}

namespace pga::net {

struct ClientResponse {
  int status = 0;
  Fields headers;
  std::string body;  // inflated when the server sent it gzip-encoded

  std::optional<std::string_view> header(std::string_view name) const { return find_header(headers, name); }
};

struct ClientLimits {
  std::size_t max_header_bytes = 16 * 1024;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  std::size_t max_inflated_bytes = 64 * 1024 * 1024;
  double max_inflate_ratio = 100;
};

// No HTTP answer came back: name resolution, connection, TLS (including a certificate either
// side refused), a timeout, or a malformed or oversized response. An HTTP error status is not
// a TransportError; it arrives as a ClientResponse.
class TransportError : public std::runtime_error {
 public:
  TransportError(const std::string& message, boost::system::error_code code);
  const boost::system::error_code& code() const noexcept { return code_; }
  bool timed_out() const noexcept;

 private:
  boost::system::error_code code_;
};

class HttpsClient {
 public:
  // `executor` must be a strand or a single-threaded context; `tls` (see make_client_tls_context)
  // must outlive the client. `host` is a name or an IP literal and is what the certificate must
  // name; the connection is made on the first request.
  HttpsClient(boost::asio::any_io_executor executor, boost::asio::ssl::context& tls, std::string host,
              std::uint16_t port, ClientLimits limits = {});
  ~HttpsClient();
  HttpsClient(const HttpsClient&) = delete;
  HttpsClient& operator=(const HttpsClient&) = delete;

  // One request at a time (a second concurrent call throws std::logic_error); the client must
  // outlive it. `timeout` bounds the whole exchange: resolve, connect, handshake, write, read.
  // With gzip_body the body is sent compressed with Content-Encoding: gzip. A kept-alive
  // connection that turns out closed by the server is replaced once, transparently. Throws
  // TransportError.
  boost::asio::awaitable<ClientResponse> request(std::string method, std::string target, std::string body = {},
                                                 Fields headers = {}, bool gzip_body = false,
                                                 std::chrono::milliseconds timeout = std::chrono::seconds(30));

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace pga::net
