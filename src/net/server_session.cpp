// One HTTP/1.1 connection, written once as a template over the stream (TLS in production, plain
// TCP in tests): handshake, keep-alive loop, limits and a timeout on every read and write.
//
// A request is routed on its headers alone. The route's handler gets the session as BodyReader
// and asks for the body once it has checked who is calling; the body is then read under the
// route's BodyPolicy and, if gzip, inflated on the inflation threads within the server's budget.
// A body nobody asked for is never read: the connection closes after the response instead.
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

// The peer went away or timed out while its body was read: nobody is left to answer.
struct PeerGone : std::runtime_error {
  PeerGone() : std::runtime_error("the peer went away") {}
};

// Read failures that deserve an answer; the rest (timeout, reset, EOF) mean nobody is listening.
std::optional<ApiError> refusal_for(const beast::error_code& ec) {
  if (ec == http::error::body_limit) return ApiError(413, "payload_too_large", "request body is too large");
  if (ec == http::error::header_limit) return ApiError(431, "headers_too_large", "request headers are too large");
  bool parse_error = ec.category() == http::make_error_code(http::error::bad_target).category();
  if (parse_error && ec != http::error::end_of_stream && ec != http::error::partial_message)
    return ApiError(400, "bad_request", "malformed HTTP request");
  return std::nullopt;
}

// Only chunked is a transfer coding we decode: anything else (gzip, a list, a repeated header)
// would leave the body's end unknown, and the bytes after it could pass for another request.
bool transfer_encoding_supported(const RequestHeader& header) {
  std::size_t fields = 0;
  bool chunked_only = true;
  for (const auto& field : header) {
    if (field.name() != http::field::transfer_encoding) continue;
    ++fields;
    chunked_only = chunked_only && beast::iequals(beast::string_view(field.value()), "chunked");
  }
  return fields <= 1 && chunked_only;
}

void take_header(const RequestHeader& header, Request& request) {
  parse_target(header.target(), request);
  for (const auto& field : header) request.headers.emplace_back(field.name_string(), field.value());
}

// The route's BodyPolicy, checked on the headers: returns whether the body is gzip.
bool check_body(const RequestHeader& header, const RequestParser& parser, const BodyPolicy& policy) {
  auto encoding = content_encoding(header[http::field::content_encoding]);
  if (encoding == ContentEncoding::Other || (encoding == ContentEncoding::Gzip && !policy.gzip))
    throw ApiError(415, "unsupported_content_encoding",
                   policy.gzip ? "Content-Encoding must be gzip or identity" : "this route takes no Content-Encoding");
  if (auto length = parser.content_length(); length && *length > policy.max_bytes)
    throw ApiError(413, "payload_too_large", "request body is too large");
  return encoding == ContentEncoding::Gzip;
}

struct Inflated {
  std::string body;
  InflateBudget::Lease lease;
};

// Runs on the inflation threads. Measuring first costs no memory; the budget is taken for the
// exact size before that memory is.
asio::awaitable<Inflated> inflate_task(InflateBudget& budget, std::string compressed, std::size_t max_bytes,
                                       double max_ratio) {
  const auto size = measure_gzip(compressed, max_bytes, max_ratio).value();
  auto lease = budget.take(size);
  if (!lease)
    throw ApiError(503, "busy", "the server is inflating as many request bodies as it may; retry later")
        .with_header("Retry-After", "2");
  co_return Inflated{inflate_measured_gzip(compressed, size), std::move(*lease)};
}

std::string_view metric_method(std::string_view method) {
  return http::string_to_verb(method) == http::verb::unknown ? "OTHER"sv : method;
}

bool status_has_body(int status) { return status >= 200 && status != 204 && status != 304; }

// One request as read and answered; `response` is empty when the peer vanished.
struct Exchange {
  Request request;
  std::optional<Response> response;
  bool keep_alive = false;
  unsigned version = 11;
};

template <class Stream>
class Session final : public Connection, public BodyReader, public std::enable_shared_from_this<Session<Stream>> {
 public:
  template <class... StreamArgs>
  explicit Session(std::shared_ptr<ServerShared> shared, StreamArgs&&... args)
      : stream_(std::forward<StreamArgs>(args)...), shared_(std::move(shared)), limits_(shared_->limits) {
    beast::error_code ec;
    remote_ = tcp().socket().remote_endpoint(ec).address().to_string();
  }
  ~Session() override { shared_->connections.closed(this); }

  asio::any_io_executor executor() { return tcp().get_executor(); }

  static asio::awaitable<void> run(std::shared_ptr<Session> self) {
    bool after_response = false;
    if (!self->shared_->draining() && co_await self->handshake()) after_response = co_await self->serve();
    co_await self->close(after_response);
  }

  void close_from_outside(bool force) override {
    asio::post(executor(), [self = this->shared_from_this(), force] {
      if (force || !self->busy_) self->tcp().close();
    });
  }

  void evict() override {
    asio::post(executor(), [self = this->shared_from_this()] {
      self->evicted_ = true;
      if (!self->busy_) self->tcp().close();
    });
  }

  asio::awaitable<void> read(Request& request) override {
    if (body_read_) co_return;
    body_read_ = true;
    if (!parser_->is_done()) {
      if (expects_continue_) co_await send_continue();
      parser_->body_limit(policy_.max_bytes);  // chunked bodies; a Content-Length was checked already
      tcp().expires_after(limits_.body_timeout);
      auto [ec, n] = co_await http::async_read(stream_, buffer_, *parser_, nothrow);
      if (ec) {
        if (auto refusal = refusal_for(ec)) throw *refusal;
        vanished_ = true;
        log::debug("connection from {} ended while reading a body: {}", remote_, ec.message());
        throw PeerGone();
      }
    }
    request.body = std::move(parser_->get().body());
    if (gzip_) {
      auto inflated = co_await asio::co_spawn(shared_->inflate_pool,
                                              inflate_task(shared_->inflate_budget, std::move(request.body),
                                                           limits_.max_inflated_bytes, limits_.max_inflate_ratio),
                                              asio::use_awaitable);
      request.body = std::move(inflated.body);
      inflate_lease_ = std::move(inflated.lease);
    }
  }

 private:
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

  asio::awaitable<bool> handshake() {
    bool verified = false;
    if constexpr (kIsTls<Stream>) {
      tcp().expires_after(limits_.handshake_timeout);
      auto [ec] = co_await stream_.async_handshake(asio::ssl::stream_base::server, nothrow);
      if (ec) {
        log::debug("TLS handshake with {} failed: {}", remote_, ec.message());
        co_return false;
      }
      peer_identity_ = verified_client_identity(stream_.native_handle());
      verified = peer_identity_.has_value();
    }
    if (shared_->connections.handshake_done(this, verified)) co_return true;
    log::debug("closed a connection from {}: the room left is for clients with certificates", remote_);
    co_return false;
  }

  // Returns whether the connection ends right after a response (rather than idle or dead).
  asio::awaitable<bool> serve() {
    for (bool first = true; co_await wait_for_request(first); first = false) {
      busy_ = true;
      auto started = std::chrono::steady_clock::now();
      Exchange exchange = co_await answer_one();
      if (!exchange.response) co_return false;
      const bool complete = parser_ && parser_->is_done() && !must_close_;
      bool keep_alive = exchange.keep_alive && complete && !shared_->draining() && !evicted_;
      int status = exchange.response->status;
      bool written = co_await write(std::move(*exchange.response), keep_alive, exchange.version);
      observe(exchange.request, status, started);
      end_request();
      busy_ = false;
      if (!written || !keep_alive) co_return written;
    }
    co_return false;
  }

  // The first request must start within the header timeout, later ones within the idle one.
  // Meanwhile the connection is idle: the first to close when room is needed.
  asio::awaitable<bool> wait_for_request(bool first) {
    if (evicted_) co_return false;
    if (buffer_.size() > 0) co_return true;
    tcp().expires_after(first ? limits_.header_timeout : limits_.idle_timeout);
    shared_->connections.set_idle(this, true);
    auto [ec, n] = co_await stream_.async_read_some(buffer_.prepare(4096), nothrow);
    shared_->connections.set_idle(this, false);
    buffer_.commit(n);
    co_return !ec && !evicted_;
  }

  asio::awaitable<Exchange> answer_one() {
    Exchange exchange;
    exchange.request.remote_address = remote_;
    exchange.request.peer_certificate_cn = peer_identity_;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
    parser_->body_limit(boost::none);  // each route's own, once it is known
    tcp().expires_after(limits_.header_timeout);
    auto [header_ec, header_bytes] = co_await http::async_read_header(stream_, buffer_, *parser_, nothrow);
    if (header_ec) {
      if (auto refusal = refusal_for(header_ec)) {
        must_close_ = true;
        exchange.response = to_response(std::make_exception_ptr(*refusal));
      } else {
        log::debug("connection from {} ended while reading a request: {}", remote_, header_ec.message());
      }
      co_return exchange;
    }
    const auto& header = parser_->get();  // the message so far: headers, no body yet
    exchange.request.method = std::string(header.method_string());
    exchange.keep_alive = header.keep_alive();
    exchange.version = header.version();
    expects_continue_ = beast::iequals(header[http::field::expect], "100-continue");
    std::exception_ptr error;
    try {
      if (!transfer_encoding_supported(header)) {
        must_close_ = true;
        throw ApiError(501, "not_implemented", "only Transfer-Encoding: chunked is supported");
      }
      take_header(header, exchange.request);
      const auto& route = shared_->router.match(exchange.request);
      policy_ = route.body;
      gzip_ = check_body(header, *parser_, policy_);
      exchange.response = co_await route.handler(exchange.request, *this);
    } catch (...) {
      error = std::current_exception();
    }
    if (error && !vanished_) {
      must_close_ = must_close_ || !parser_->is_done();
      exchange.response = to_response(error, exchange.request.method + " " +
                                                 (exchange.request.route.empty() ? exchange.request.path
                                                                                 : exchange.request.route));
    }
    if (vanished_) exchange.response.reset();
    co_return exchange;
  }

  void end_request() {
    parser_.reset();
    inflate_lease_ = {};
    policy_ = {};
    gzip_ = body_read_ = expects_continue_ = must_close_ = vanished_ = false;
  }

  // curl and others wait for this before sending a large body.
  asio::awaitable<void> send_continue() {
    tcp().expires_after(limits_.write_timeout);
    co_await asio::async_write(stream_, asio::buffer("HTTP/1.1 100 Continue\r\n\r\n"sv), nothrow);
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
  std::optional<std::string> peer_identity_;
  // Only touched on the strand:
  bool busy_ = false;     // a request is being read, handled or answered
  bool evicted_ = false;  // made room for another connection: no further request
  // The request in progress:
  std::optional<RequestParser> parser_;
  BodyPolicy policy_;
  bool gzip_ = false;
  bool body_read_ = false;
  bool expects_continue_ = false;
  bool must_close_ = false;  // what follows on the connection cannot be trusted to be a request
  bool vanished_ = false;
  InflateBudget::Lease inflate_lease_;  // held until the response is written
};

template <class Stream, class... StreamArgs>
void launch(std::shared_ptr<ServerShared> shared, const Admission& admission, StreamArgs&&... args) {
  auto session = std::make_shared<Session<Stream>>(shared, std::forward<StreamArgs>(args)...);
  shared->connections.track(session, admission);
  auto executor = session->executor();
  asio::co_spawn(executor, Session<Stream>::run(std::move(session)), [](std::exception_ptr error) {
    if (error) to_response(error, "HTTP connection");  // logs it; nobody is left to answer
  });
}

}  // namespace

void spawn_session(asio::ip::tcp::socket socket, asio::ssl::context* tls, std::shared_ptr<ServerShared> shared,
                   const Admission& admission) {
  if (tls)
    launch<TlsStream>(std::move(shared), admission, beast::tcp_stream(std::move(socket)), *tls);
  else
    launch<PlainStream>(std::move(shared), admission, std::move(socket));
}

}  // namespace pga::net::detail
