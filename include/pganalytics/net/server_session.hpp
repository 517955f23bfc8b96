// Internal to src/net (http_server.cpp and server_session.cpp): the state the listener shares
// with the connections it spawns, and the one entry point that starts a connection.
#pragma once
#include "pganalytics/net/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <atomic>
#include <map>
#include <mutex>

namespace pga::net::detail {

// A live connection as stop() sees it; each one closes itself on its own strand.
class Connection {
 public:
  virtual ~Connection() = default;
  // force=false closes the connection only if no request is in progress.
  virtual void close_from_outside(bool force) = 0;
};

class ServerShared {
 public:
  ServerShared(Router router, ServerLimits limits, RequestObserver observer);

  const Router router;
  const ServerLimits limits;
  const RequestObserver observer;

  bool draining() const noexcept { return draining_.load(); }
  void begin_draining() noexcept { draining_.store(true); }

  // Called by the single accept loop only, so checking and then opening cannot overshoot.
  bool has_room() noexcept;
  void opened() noexcept;
  void track(const std::shared_ptr<Connection>& connection);
  void closed(const Connection* connection) noexcept;
  void close_all(bool force);
  ServerStats stats() const noexcept;

 private:
  std::atomic<bool> draining_{false};
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::size_t> open_{0};
  std::mutex mutex_;
  std::map<const Connection*, std::weak_ptr<Connection>> live_;
};

// Starts serving an accepted socket (bound to its own strand), over TLS when `tls` is given.
void spawn_session(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls,
                   std::shared_ptr<ServerShared> shared);

}  // namespace pga::net::detail
