// The HTTPS server: accepts connections on one endpoint, reads requests under the limits below,
// dispatches them through the Router and answers with Content-Length; stops in two stages.
#pragma once
#include "pganalytics/net/router.hpp"

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

namespace boost::asio {
class io_context;
}
namespace boost::asio::ssl {
class context;
}

namespace pga::net {

struct ServerLimits {
  std::chrono::milliseconds handshake_timeout{10'000};
  std::chrono::milliseconds header_timeout{10'000};  // from a request's first byte to its last header
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  std::chrono::milliseconds write_timeout{30'000};
  std::chrono::milliseconds linger_timeout{2'000};   // closing: lets the peer read our last response
  std::size_t max_header_bytes = 16 * 1024;
  // Bodies: each route's BodyPolicy bounds what is sent; these bound what gzip inflates to.
  std::size_t max_inflated_bytes = 64 * 1024 * 1024;
  double max_inflate_ratio = 100;
  std::size_t max_inflating_bytes = 256 * 1024 * 1024;  // inflated bodies held at once; beyond: 503
  unsigned inflate_threads = 2;                          // inflation runs there, not on I/O threads
  // Connections (see ServerShared::admit): near max_connections the oldest idle ones are closed
  // to admit new ones; beyond it, a new one is closed at once.
  std::size_t max_connections = 1024;
  // Anonymous connections (no verified client certificate yet, handshakes included) of one IPv4
  // address or IPv6 /64; at this count the address's oldest idle one makes room, or the new one
  // is refused.
  std::size_t max_connections_per_address = 256;
  // The last connections under max_connections go only to clients whose certificate verifies
  // (agents): anonymous ones cannot starve them. Only meaningful over TLS with a client CA.
  std::size_t reserved_for_certificates = 128;
};

// Called once per answered request, from any thread: `route` is the matched pattern (empty when
// none matched), `method` a standard method name or "OTHER", so label values stay bounded.
using RequestObserver = std::function<void(std::string_view route, std::string_view method, int status, double seconds)>;

struct ServerOptions {
  std::string address = "127.0.0.1";  // an IPv4 or IPv6 literal; "0.0.0.0" or "::" for all
  std::uint16_t port = 0;              // 0 picks a free port, see HttpServer::port()
  ServerLimits limits;
  RequestObserver observer;
};

struct ServerStats {
  std::uint64_t accepted = 0;  // connections taken in
  std::uint64_t refused = 0;   // connections closed at once: no room, for the server or the address
  std::uint64_t evicted = 0;   // idle connections closed to make room for new ones
  std::uint64_t inflate_refused = 0;  // requests answered 503 for want of inflation budget
  std::size_t open = 0;        // connections counted against the caps
  std::size_t inflating_bytes = 0;
};

// Raises the soft open-file limit to the hard one and returns how many connections fit in it
// after `reserved_files` descriptors (database connections, files, listeners), at most `ceiling`.
std::size_t connection_capacity(std::size_t reserved_files, std::size_t ceiling);

class HttpServer {
 public:
  // Binds and listens at once (errors throw here, not later); serves after start(). `io` may be
  // run by several threads: every connection lives on its own strand. `io` and `tls` must
  // outlive the server.
  HttpServer(boost::asio::io_context& io, boost::asio::ssl::context& tls, Router router, ServerOptions options);
  // Plain TCP: for tests, and for the agent's optional metrics listener (Prometheus scrapes it,
  // usually on loopback); the API is served over HTTPS only (CONTRACT §4).
  HttpServer(boost::asio::io_context& io, Router router, ServerOptions options);
  // Closes the listener and every connection (as a forced stop would).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::uint16_t port() const;
  void start();
  // First call: stop accepting, close idle connections, let requests in flight finish and be
  // answered (with Connection: close) for up to `grace`, then close what is left. A second call
  // closes everything at once. Completes when all connections are gone or the grace has passed.
  boost::asio::awaitable<void> stop(std::chrono::milliseconds grace);
  ServerStats stats() const;

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace pga::net
