// The listener: binds, accepts what Connections::admit lets in, hands sockets to sessions, and
// runs the two-stage stop.
#include "pganalytics/net/http_server.hpp"

#include "pganalytics/common/log.hpp"
#include "pganalytics/net/server_session.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fmt/format.h>

#include <vector>

namespace pga::net {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace detail {

ServerShared::ServerShared(Router router_, ServerLimits limits_, RequestObserver observer_)
    : router(std::move(router_)), limits(limits_), observer(std::move(observer_)) {}

ServerStats ServerShared::stats() const {
  return {connections.accepted(), connections.refused(),       connections.evicted(),
          inflate_budget.refused(), connections.open(), inflate_budget.used()};
}

}  // namespace detail

namespace {

constexpr auto nothrow = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kAcceptRetryPause{100};
constexpr std::chrono::milliseconds kDrainPoll{20};

ServerOptions without_reserve(ServerOptions options) {
  options.limits.reserved_for_certificates = 0;
  return options;
}

void log_failure(std::exception_ptr error) {
  if (error) to_response(error, "HTTP listener");  // logs it
}

tcp::acceptor open_acceptor(asio::any_io_executor executor, const ServerOptions& options) {
  boost::system::error_code ec;
  auto address = asio::ip::make_address(options.address, ec);
  if (ec) throw std::invalid_argument("listen address is not an IP address: " + options.address);
  tcp::endpoint endpoint(address, options.port);
  tcp::acceptor acceptor(executor);
  try {
    acceptor.open(endpoint.protocol());
    acceptor.set_option(asio::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
  } catch (const boost::system::system_error& e) {
    throw std::runtime_error(fmt::format("cannot listen on {}:{}: {}", options.address, options.port, e.code().message()));
  }
  return acceptor;
}

}  // namespace

struct HttpServer::Impl {
  Impl(asio::io_context& io_, asio::ssl::context* tls_, Router router, ServerOptions options)
      : io(io_),
        tls(tls_),
        strand(asio::make_strand(io_)),
        acceptor(open_acceptor(strand, options)),
        port(acceptor.local_endpoint().port()),
        shared(std::make_shared<detail::ServerShared>(std::move(router), options.limits, std::move(options.observer))) {}

  static asio::awaitable<void> accept_loop(std::shared_ptr<Impl> self) {
    asio::steady_timer pause(self->strand);
    while (self->acceptor.is_open()) {
      auto [ec, socket] = co_await self->acceptor.async_accept(asio::make_strand(self->io), nothrow);
      if (!self->acceptor.is_open()) co_return;
      if (ec) {
        // Typically out of file descriptors: retrying at once would spin.
        log::warn("accepting a connection failed: {}", ec.message());
        pause.expires_after(kAcceptRetryPause);
        co_await pause.async_wait(nothrow);
      } else {
        boost::system::error_code peer_error;
        const auto peer = socket.remote_endpoint(peer_error);
        if (peer_error) continue;  // already gone
        const auto admission = self->shared->connections.admit(peer.address());
        if (!admission.admitted) continue;  // the socket closes here
        // Responses leave in several writes; Nagle would hold the last one for a delayed ACK.
        boost::system::error_code ignored;
        socket.set_option(asio::ip::tcp::no_delay(true), ignored);
        detail::spawn_session(std::move(socket), self->tls, self->shared, admission);
      }
    }
  }

  // Runs on the strand, which owns the acceptor and `stopping`.
  static asio::awaitable<void> stop(std::shared_ptr<Impl> self, std::chrono::milliseconds grace) {
    bool force = self->stopping;
    self->stopping = true;
    self->close_listener_and_connections(force);
    if (force) co_return;
    auto deadline = std::chrono::steady_clock::now() + grace;
    asio::steady_timer poll(self->strand);
    while (self->shared->connections.alive() > 0 && std::chrono::steady_clock::now() < deadline) {
      poll.expires_after(std::min<std::chrono::steady_clock::duration>(kDrainPoll, deadline - std::chrono::steady_clock::now()));
      co_await poll.async_wait(nothrow);
    }
    if (self->shared->connections.alive() > 0) self->shared->connections.close_all(true);
  }

  void close_listener_and_connections(bool force) {
    boost::system::error_code ignored;
    acceptor.close(ignored);
    shared->begin_draining();
    shared->connections.close_all(force);
  }

  asio::io_context& io;
  asio::ssl::context* tls;
  asio::strand<asio::io_context::executor_type> strand;
  tcp::acceptor acceptor;
  const std::uint16_t port;
  std::shared_ptr<detail::ServerShared> shared;
  bool started = false;
  bool stopping = false;
};

HttpServer::HttpServer(asio::io_context& io, asio::ssl::context& tls, Router router, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, &tls, std::move(router), std::move(options))) {}

// Without TLS no client has a certificate: no room is kept for them.
HttpServer::HttpServer(asio::io_context& io, Router router, ServerOptions options)
    : impl_(std::make_shared<Impl>(io, nullptr, std::move(router), without_reserve(std::move(options)))) {}

HttpServer::~HttpServer() {
  asio::post(impl_->strand, [impl = impl_] { impl->close_listener_and_connections(true); });
}

std::uint16_t HttpServer::port() const { return impl_->port; }

void HttpServer::start() {
  if (impl_->started) throw std::logic_error("HttpServer::start called twice");
  impl_->started = true;
  asio::co_spawn(impl_->strand, Impl::accept_loop(impl_), log_failure);
}

asio::awaitable<void> HttpServer::stop(std::chrono::milliseconds grace) {
  co_await asio::co_spawn(impl_->strand, Impl::stop(impl_, grace), asio::use_awaitable);
}

ServerStats HttpServer::stats() const { return impl_->shared->stats(); }

}  // namespace pga::net
