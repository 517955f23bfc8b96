// Internal to src/net (http_server.cpp, connections.cpp, server_session.cpp): the state the
// listener shares with the connections it spawns — who is connected, from where, idle or not;
// the inflation budget and its threads — and the one entry point that starts a connection.
#pragma once
#include "pganalytics/net/http_server.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/thread_pool.hpp>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace pga::net::detail {

// A live connection as the listener sees it; each one closes itself on its own strand.
class Connection {
 public:
  virtual ~Connection() = default;
  // force=false closes the connection only if no request is in progress.
  virtual void close_from_outside(bool force) = 0;
  // Closes the connection if it is idle; else it ends after the response in progress.
  virtual void evict() = 0;
};

// What admit() decided for a new connection.
struct Admission {
  bool admitted = false;
  std::string address;     // the key its address is counted under
  bool probation = false;  // admitted into the room reserved for verified client certificates
};

// Connection bookkeeping under one mutex. Connections are counted while admitted; an evicted one
// stops counting at once (it serves no further request) and is only tracked until it closes.
class Connections {
 public:
  explicit Connections(const ServerLimits& limits);

  // Called by the single accept loop. May pick idle connections to close (outside the lock).
  Admission admit(const boost::asio::ip::address& address);
  void track(const std::shared_ptr<Connection>& connection, const Admission& admission);
  // After the TLS handshake: a verified client certificate leaves the anonymous counts. False
  // when the connection was admitted on probation without one: it must close.
  bool handshake_done(const Connection* connection, bool verified_certificate);
  void set_idle(const Connection* connection, bool idle);
  void closed(const Connection* connection) noexcept;
  void close_all(bool force);

  std::uint64_t accepted() const noexcept { return accepted_.load(); }
  std::uint64_t refused() const noexcept { return refused_.load(); }
  std::uint64_t evicted() const noexcept { return evicted_.load(); }
  std::size_t open() const;
  std::size_t alive() const;  // open plus evicted ones not yet closed

 private:
  using IdleSet = std::set<std::pair<std::uint64_t, const Connection*>>;  // oldest first
  struct Entry {
    std::weak_ptr<Connection> connection;
    std::string address;
    bool counted = true;    // false once evicted
    bool anonymous = true;  // no verified client certificate (yet)
    bool probation = false;
    std::uint64_t idle_since = 0;  // order of becoming idle; 0 while not idle
  };
  struct Address {
    std::size_t anonymous = 0;
    IdleSet idle;  // its anonymous idle connections
  };

  // Stops counting the oldest connection of `set`, to be evicted; false when the set is empty.
  bool take_oldest(IdleSet& set, std::vector<std::shared_ptr<Connection>>& victims);
  void leave_idle(Entry& entry, const Connection* connection);
  void uncount(Entry& entry, const Connection* connection);
  void forget_address_if_unused(const std::string& address);

  const ServerLimits& limits_;
  std::atomic<std::uint64_t> accepted_{0};
  std::atomic<std::uint64_t> refused_{0};
  std::atomic<std::uint64_t> evicted_{0};
  mutable std::mutex mutex_;
  std::unordered_map<const Connection*, Entry> live_;
  std::unordered_map<std::string, Address> addresses_;
  IdleSet idle_anonymous_;
  IdleSet idle_verified_;
  std::size_t open_ = 0;
  std::size_t anonymous_ = 0;
  std::uint64_t idle_order_ = 0;
};

// Bytes of inflated bodies held at once. A Lease gives its bytes back when destroyed.
class InflateBudget {
 public:
  explicit InflateBudget(std::size_t limit) : limit_(limit) {}
  class Lease {
   public:
    Lease() = default;
    Lease(InflateBudget* budget, std::size_t bytes) : budget_(budget), bytes_(bytes) {}
    Lease(Lease&& other) noexcept : budget_(std::exchange(other.budget_, nullptr)), bytes_(other.bytes_) {}
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();

   private:
    InflateBudget* budget_ = nullptr;
    std::size_t bytes_ = 0;
  };
  // A lease of `bytes`, or nullopt when that would pass the limit.
  std::optional<Lease> take(std::size_t bytes);
  std::size_t used() const noexcept { return used_.load(); }
  std::uint64_t refused() const noexcept { return refused_.load(); }

 private:
  const std::size_t limit_;
  std::atomic<std::size_t> used_{0};
  std::atomic<std::uint64_t> refused_{0};
};

class ServerShared {
 public:
  ServerShared(Router router, ServerLimits limits, RequestObserver observer);

  const Router router;
  const ServerLimits limits;
  const RequestObserver observer;
  Connections connections{limits};
  InflateBudget inflate_budget{limits.max_inflating_bytes};
  boost::asio::thread_pool inflate_pool{limits.inflate_threads};

  bool draining() const noexcept { return draining_.load(); }
  void begin_draining() noexcept { draining_.store(true); }
  ServerStats stats() const;

 private:
  std::atomic<bool> draining_{false};
};

// Starts serving an admitted socket (bound to its own strand), over TLS when `tls` is given.
void spawn_session(boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls,
                   std::shared_ptr<ServerShared> shared, const Admission& admission);

}  // namespace pga::net::detail
