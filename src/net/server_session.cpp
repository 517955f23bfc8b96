// One HTTP/1.1 connection, written once as a template over the stream (TLS in production, plain
// TCP in tests): handshake, keep-alive loop, limits and a timeout on every read and write.
#include "pganalytics/net/server_session.hpp"

#include "pganalytics/common/log.hpp"
#include "pganalytics/net/gzip.hpp"
#include "pganalytics/net/tls.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <array>
#include <chrono>

namespace pga::net::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::literals;

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
using TlsStream = beast::ssl_stream<beast::tcp_stream>;
using PlainStream = beast::tcp_stream;
using RequestParser = http::request_parser<http::string_body>;
using RequestHeader = http::request_header<>;

template <class Stream>
constexpr bool kIsTls = std::is_same_v<Stream, TlsStream>;

// What reading one request produced: a request for the router, an answer to send without the
// router (a limit or a malformed request), or nothing at all (the peer went away or timed out).
struct Incoming {
  Request request;
  std::optional<Response> early;
  bool vanished = false;
  bool body_read = false;  // false: unread bytes may follow, so the connection cannot be reused
  bool keep_alive = false;
  unsigned version = 11;
};

Response api_error(int status, std::string code, std::string message) {
  return to_response(std::make_exception_ptr(ApiError(status, std::move(code), std::move(message))));
}

// Read failures that deserve an answer; the rest (timeout, reset, EOF) mean nobody is listening.
std::optional<Response> answer_for(const beast::error_code& ec) {
  if (ec == http::error::body_limit) return api_error(413, "payload_too_large", "request body is too large");
  if (ec == http::error::header_limit) return api_error(431, "headers_too_large", "request headers are too large");
  bool parse_error = ec.category() == http::make_error_code(http::error::bad_target).category();
  if (parse_error && ec != http::error::end_of_stream && ec != http::error::partial_message)
    return api_error(400, "bad_request", "malformed HTTP request");
  return std::nullopt;
}

// Returns whether the body is gzip; throws ApiError for a target or encoding we refuse.
bool accept_header(const RequestHeader& header, Request& request) {
  parse_target(header.target(), request);
  for (const auto& field : header) request.headers.emplace_back(field.name_string(), field.value());
  auto encoding = content_encoding(header[http::field::content_encoding]);
  if (encoding == ContentEncoding::Other)
    throw ApiError(415, "unsupported_content_encoding", "Content-Encoding must be gzip or identity");
  return encoding == ContentEncoding::Gzip;
}

std::string_view metric_method(std::string_view method) {
  return http::string_to_verb(method) == http::verb::unknown ? "OTHER"sv : method;
}

bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

template <class Stream>
class Session final : public Connection, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... StreamArgs>
  explicit Session(std::shared_ptr<ServerShared> shared, StreamArgs&&... args)
      : stream_(std::forward<StreamArgs>(args)...), shared_(std::move(shared)), limits_(shared_->limits) {
    beast::error_code ec;
    remote_ = tcp().socket().remote_endpoint(ec).address().to_string();
    shared_->opened();
  }
  ~Session() override { shared_->closed(this); }

  asio::any_io_executor executor() { return tcp().get_executor(); }

  static asio::awaitable<void> run(std::shared_ptr<Session> self) {
    self->shared_->track(self);
    bool after_response = false;
    if (!self->shared_->draining() && co_await self->handshake()) after_response = co_await self->serve();
    co_await self->close(after_response);
  }

  void close_from_outside(bool force) override {
    asio::post(executor(), [self = this->shared_from_this(), force] {
      if (force || !self->busy_) self->tcp().close();
    });
  }

 private:
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

  asio::awaitable<bool> handshake() {
    if constexpr (kIsTls<Stream>) {
      tcp().expires_after(limits_.handshake_timeout);
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, nothrow);
      if (ec) {
        log::debug("TLS handshake with {} failed: {}", remote_, ec.message());
        co_return false;
      }
      peer_cn_ = verified_peer_common_name(stream_.native_handle());
    }
    co_return true;
  }

  // Returns whether the connection ends right after a response (rather than idle or dead).
  asio::awaitable<bool> serve() {
    for (bool first = true; co_await wait_for_request(first); first = false) {
      busy_ = true;
      auto started = std::chrono::steady_clock::now();
      Incoming in = co_await read_request();
      if (in.vanished) co_return false;
      std::optional<Response> response = std::move(in.early);
      if (!response) response = co_await dispatch(in.request);  // not in a ?: (GCC 12 miscompiles it)
      bool keep_alive = in.keep_alive && in.body_read && !shared_->draining();
      int status = response->status;
      bool written = co_await write(std::move(*response), keep_alive, in.version);
      observe(in.request, status, started);
      busy_ = false;
      if (!written || !keep_alive) co_return written;
    }
    co_return false;
  }

  // The first request must start within the header timeout, later ones within the idle one.
  asio::awaitable<bool> wait_for_request(bool first) {
    if (buffer_.size() > 0) co_return true;
    tcp().expires_after(first ? limits_.header_timeout : limits_.idle_timeout);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), nothrow);
    buffer_.commit(n);
    co_return !ec;
  }

  asio::awaitable<Incoming> read_request() {
    Incoming in;
    in.request.remote_address = remote_;
    in.request.peer_certificate_cn = peer_cn_;
    RequestParser parser;
    parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser.body_limit(limits_.max_body_bytes);
    tcp().expires_after(limits_.header_timeout);
    auto [header_ec, header_bytes] = co_await http::async_read_header(stream_, buffer_, parser, nothrow);
    if (header_ec) co_return failed_read(header_ec, std::move(in));
    const auto& header = parser.get();  // the message so far: headers, no body yet
    in.request.method = std::string(header.method_string());
    in.keep_alive = header.keep_alive();
    in.version = header.version();
    try {
      bool gzip = accept_header(header, in.request);
      if (beast::iequals(header[http::field::expect], "100-continue")) co_await send_continue();
      tcp().expires_after(limits_.body_timeout);
      auto [body_ec, body_bytes] = co_await http::async_read(stream_, buffer_, parser, nothrow);
      if (body_ec) co_return failed_read(body_ec, std::move(in));
      in.body_read = true;
      in.request.body = std::move(parser.get().body());
      if (gzip)
        in.request.body = inflate_gzip(in.request.body, limits_.max_inflated_bytes, limits_.max_inflate_ratio).value();
    } catch (...) {
      in.early = to_response(std::current_exception(), "reading request from " + remote_);
    }
    co_return in;
  }

  Incoming failed_read(const beast::error_code& ec, Incoming in) {
    in.early = answer_for(ec);
    if (!in.early) {
      in.vanished = true;
      log::debug("connection from {} ended while reading a request: {}", remote_, ec.message());
    }
    return in;
  }

  // curl and others wait for this before sending a large body.
  asio::awaitable<void> send_continue() {
    tcp().expires_after(limits_.write_timeout);
    co_await asio::async_write(stream_, asio::buffer("HTTP/1.1 100 Continue\r\n\r\n"sv), nothrow);
  }

  asio::awaitable<Response> dispatch(Request& request) {
    std::exception_ptr error;
    try {
      const Handler& handler = shared_->router.match(request);
      Response response = co_await handler(request);
      co_return response;
    } catch (...) {
      error = std::current_exception();
    }
    co_return to_response(error, request.method + " " + (request.route.empty() ? request.path : request.route));
  }

  asio::awaitable<bool> write(Response response, bool keep_alive, unsigned version) {
    http::response<http::string_body> message;
    message.version(version);
    message.result(static_cast<unsigned>(response.status));
    for (auto& [name, value] : response.headers) message.insert(name, value);
    message.set(http::field::server, "pganalytics");
    message.erase(http::field::transfer_encoding);
    if (status_has_body(response.status)) {
      message.set(http::field::content_type, response.content_type);
      message.content_length(response.body.size());
      message.body() = std::move(response.body);
    }
    message.keep_alive(keep_alive);
    tcp().expires_after(limits_.write_timeout);
    auto [ec, n] = co_await http::async_write(stream_, message, nothrow);
    co_return !ec;
  }

  void observe(const Request& request, int status, std::chrono::steady_clock::time_point started) {
    if (!shared_->observer) return;
    std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - started;
    shared_->observer(request.route, metric_method(request.method), status, elapsed.count());
  }

  // After a final response the peer may still be sending (an unread body): closing at once
  // would make the kernel reset the connection and could destroy the response before the peer
  // reads it. So the peer first gets our end of stream and a bounded time to finish. Idle and
  // dead connections are simply closed (no close_notify wait, as nginx does on timeouts).
  asio::awaitable<void> close(bool linger) {
    if (linger) {
      tcp().expires_after(limits_.linger_timeout);
      if constexpr (kIsTls<Stream>) {
        co_await stream_.async_shutdown(nothrow);  // OpenSSL discards data arriving meanwhile
      } else {
        beast::error_code ignored;
        tcp().socket().shutdown(asio::socket_base::shutdown_send, ignored);
        std::array<char, 4096> discard;
        for (;;) {
          auto [ec, n] = co_await tcp().async_read_some(asio::buffer(discard), nothrow);
          if (ec) break;
        }
      }
    }
    tcp().close();
  }

  Stream stream_;
  std::shared_ptr<ServerShared> shared_;
  const ServerLimits& limits_;
  beast::flat_buffer buffer_;
  std::string remote_;
  std::optional<std::string> peer_cn_;
  bool busy_ = false;  // a request is being read, handled or answered; only touched on the strand
};

template <class Stream, class... StreamArgs>
void launch(std::shared_ptr<ServerShared> shared, StreamArgs&&... args) {
  auto session = std::make_shared<Session<Stream>>(std::move(shared), std::forward<StreamArgs>(args)...);
  auto executor = session->executor();
  asio::co_spawn(executor, Session<Stream>::run(std::move(session)), [](std::exception_ptr error) {
    if (error) to_response(error, "HTTP connection");  // logs it; nobody is left to answer
  });
}

}  // namespace

void spawn_session(asio::ip::tcp::socket socket, asio::ssl::context* tls, std::shared_ptr<ServerShared> shared) {
  if (tls)
    launch<TlsStream>(std::move(shared), beast::tcp_stream(std::move(socket)), *tls);
  else
    launch<PlainStream>(std::move(shared), std::move(socket));
}

}  // namespace pga::net::detail
