// HttpsClient: lazily connects (resolve, TCP, TLS 1.3 with the server's name checked), keeps
// the connection alive, and turns every failure into a TransportError that says where it failed.
#include "pganalytics/net/http_client.hpp"

#include "pganalytics/common/log.hpp"
#include "pganalytics/net/gzip.hpp"
#include "pganalytics/version.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <fmt/format.h>
#include <openssl/x509v3.h>
#include <poll.h>

namespace pga::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);

bool is_ip_literal(const std::string& host) {
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

// OpenSSL's own name check (rather than a verify callback) so that a mismatch is reported as
// "hostname mismatch" / "IP address mismatch" in the handshake error.
bool expect_server_identity(TlsStream& stream, const std::string& host) {
  SSL* ssl = stream.native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  if (is_ip_literal(host)) return X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  return SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 && X509_VERIFY_PARAM_set1_host(param, host.c_str(), 0) == 1;
}

std::string handshake_failure(TlsStream& stream, const beast::error_code& ec) {
  long verify = SSL_get_verify_result(stream.native_handle());
  if (verify == X509_V_OK) return ec.message();
  return fmt::format("{} ({})", ec.message(), X509_verify_cert_error_string(verify));
}

// An idle HTTP/1.1 connection has nothing to read: if it is readable, the server has closed it
// (FIN or close_notify), so a new connection beats sending into a dead one.
bool closed_by_peer(TlsStream& stream) {
  pollfd fd{beast::get_lowest_layer(stream).socket().native_handle(), POLLIN | POLLRDHUP, 0};
  return ::poll(&fd, 1, 0) != 0;
}

struct Exchange {
  beast::error_code ec;
  std::string_view stage;
  bool answered_anything = false;
  http::response<http::string_body> response;
};

struct BusyFlag {
  bool& busy;
  ~BusyFlag() { busy = false; }
};

}  // namespace

TransportError::TransportError(const std::string& message, boost::system::error_code code)
    : std::runtime_error(message), code_(code) {}

bool TransportError::timed_out() const noexcept { return code_ == beast::error::timeout; }

struct HttpsClient::Impl {
  asio::any_io_executor executor;
  asio::ssl::context& tls;
  std::string host;
  std::uint16_t port;
  ClientLimits limits;
  std::unique_ptr<TlsStream> stream;  // null: not connected
  beast::flat_buffer buffer;
  bool busy = false;

  [[noreturn]] void fail(std::string_view stage, const beast::error_code& ec, std::chrono::milliseconds timeout,
                         std::string detail = {}) const {
    if (ec == beast::error::timeout)
      throw TransportError(fmt::format("{} {}:{} timed out after {} ms", stage, host, port, timeout.count()), ec);
    throw TransportError(fmt::format("{} {}:{} failed: {}", stage, host, port, detail.empty() ? ec.message() : detail), ec);
  }

  // getaddrinfo cannot be interrupted: on timeout we stop waiting and let it finish unobserved.
  asio::awaitable<tcp::resolver::results_type> resolve(Clock::time_point deadline, std::chrono::milliseconds timeout) {
    struct Pending {
      explicit Pending(const asio::any_io_executor& ex) : resolver(ex), done(ex) {}
      tcp::resolver resolver;
      asio::steady_timer done;
      boost::system::error_code ec;
      tcp::resolver::results_type results;
      bool finished = false;
    };
    auto pending = std::make_shared<Pending>(executor);
    pending->done.expires_at(deadline);
    pending->resolver.async_resolve(host, std::to_string(port), [pending](const auto& ec, auto results) {
      pending->ec = ec;
      pending->results = std::move(results);
      pending->finished = true;
      pending->done.cancel();
    });
    co_await pending->done.async_wait(nothrow);
    if (!pending->finished) fail("resolving", beast::error::timeout, timeout);
    if (pending->ec) fail("resolving", pending->ec, timeout);
    co_return pending->results;
  }

  asio::awaitable<void> connect(Clock::time_point deadline, std::chrono::milliseconds timeout) {
    stream.reset();
    buffer.clear();
    auto endpoints = co_await resolve(deadline, timeout);
    auto fresh = std::make_unique<TlsStream>(executor, tls);
    beast::get_lowest_layer(*fresh).expires_at(deadline);
    auto [connect_ec, endpoint] = co_await beast::get_lowest_layer(*fresh).async_connect(endpoints, nothrow);
    if (connect_ec) fail("connecting to", connect_ec, timeout);
    // Headers and body go out in separate writes; with Nagle the body's last segment would wait
    // for the server's delayed ACK, about 40 ms on every push.
    boost::system::error_code ignored;
    beast::get_lowest_layer(*fresh).socket().set_option(asio::ip::tcp::no_delay(true), ignored);
    if (!expect_server_identity(*fresh, host))
      throw TransportError("cannot set the expected TLS server name " + host, {});
    auto [handshake_ec] = co_await fresh->async_handshake(asio::ssl::stream_base::client, nothrow);
    if (handshake_ec) fail("TLS handshake with", handshake_ec, timeout, handshake_failure(*fresh, handshake_ec));
    stream = std::move(fresh);
  }

  asio::awaitable<Exchange> exchange(http::request<http::string_body>& message, Clock::time_point deadline) {
    Exchange out;
    beast::get_lowest_layer(*stream).expires_at(deadline);
    auto [write_ec, written] = co_await http::async_write(*stream, message, nothrow);
    if (write_ec) {
      out.ec = write_ec;
      out.stage = "sending the request to";
      co_return out;
    }
    http::response_parser<http::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    auto [read_ec, read] = co_await http::async_read(*stream, buffer, parser, nothrow);
    out.answered_anything = parser.got_some();
    if (read_ec) {
      out.ec = read_ec;
      out.stage = "reading the response from";
      co_return out;
    }
    out.response = parser.release();
    co_return out;
  }

  http::request<http::string_body> build(const std::string& method, const std::string& target, std::string body,
                                         const Fields& headers, bool gzip_body) const {
    http::request<http::string_body> message;
    message.method_string(method);
    message.target(target);
    message.version(11);
    std::string authority = host.find(':') == std::string::npos ? host : "[" + host + "]";  // IPv6 literal
    message.set(http::field::host, fmt::format("{}:{}", authority, port));
    message.set(http::field::user_agent, std::string("pganalytics/") + kVersion);
    for (const auto& [name, value] : headers) message.set(name, value);
    if (gzip_body) {
      body = deflate_gzip(body);
      message.set(http::field::content_encoding, "gzip");
    }
    message.body() = std::move(body);
    message.prepare_payload();
    return message;
  }

  ClientResponse to_client_response(http::response<http::string_body>&& response) const {
    ClientResponse out;
    out.status = static_cast<int>(response.result_int());
    for (const auto& field : response) out.headers.emplace_back(field.name_string(), field.value());
    out.body = std::move(response.body());
    auto encoding = content_encoding(response[http::field::content_encoding]);
    if (encoding == ContentEncoding::Other)
      throw TransportError(fmt::format("{}:{} answered with an unsupported Content-Encoding", host, port), {});
    if (encoding == ContentEncoding::Gzip) {
      auto inflated = inflate_gzip(out.body, limits.max_inflated_bytes, limits.max_inflate_ratio);
      if (!inflated)
        throw TransportError(fmt::format("the gzip body from {}:{} is {}", host, port,
                                         inflated.error() == GzipError::TooLarge ? "too large" : "corrupt"),
                             {});
      out.body = std::move(*inflated);
    }
    return out;
  }
};

HttpsClient::HttpsClient(asio::any_io_executor executor, asio::ssl::context& tls, std::string host, std::uint16_t port,
                         ClientLimits limits)
    : impl_(std::make_unique<Impl>(Impl{std::move(executor), tls, std::move(host), port, limits, {}, {}, false})) {}

HttpsClient::~HttpsClient() = default;

asio::awaitable<ClientResponse> HttpsClient::request(std::string method, std::string target, std::string body,
                                                     Fields headers, bool gzip_body, std::chrono::milliseconds timeout) {
  Impl& self = *impl_;
  if (self.busy) throw std::logic_error("HttpsClient: one request at a time");
  self.busy = true;
  BusyFlag guard{self.busy};
  auto deadline = Clock::now() + timeout;
  auto message = self.build(method, target, std::move(body), headers, gzip_body);
  if (self.stream && closed_by_peer(*self.stream)) self.stream.reset();
  bool reused = self.stream != nullptr;
  if (!reused) co_await self.connect(deadline, timeout);
  Exchange result = co_await self.exchange(message, deadline);
  // The server may have closed the idle connection just before we used it: nothing was
  // answered, so trying once more on a fresh connection is safe.
  if (result.ec && reused && !result.answered_anything && result.ec != beast::error::timeout) {
    log::debug("kept-alive connection to {}:{} was closed ({}); reconnecting", self.host, self.port, result.ec.message());
    co_await self.connect(deadline, timeout);
    result = co_await self.exchange(message, deadline);
  }
  if (result.ec) {
    self.stream.reset();
    self.fail(result.stage, result.ec, timeout);
  }
  if (!result.response.keep_alive()) self.stream.reset();
  co_return self.to_client_response(std::move(result.response));
}

}  // namespace pga::net
