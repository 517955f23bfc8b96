// `pganalytics server`: start-up (master key, database, migrations, key material, TLS), the
// HTTPS server on one io_context with a thread per core, and two-stage shutdown on signals.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <memory>

#include "pganalytics/common/server_config.hpp"

namespace boost::asio {
class io_context;
}

namespace pga::server {

struct ServerContext;

// A started server on a caller's io_context (the demo shares one loop with an agent).
class ServerInstance {
 public:
  // Migrates the database, loads or creates key material, binds and starts serving.
  static std::unique_ptr<ServerInstance> start(boost::asio::io_context& io, const ServerConfig& config);
  ~ServerInstance();
  std::uint16_t port() const;
  ServerContext& context();
  // Drains in-flight requests for up to `grace`; a second call closes everything at once.
  boost::asio::awaitable<void> stop(std::chrono::milliseconds grace);

 private:
  struct Impl;
  explicit ServerInstance(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

int run_server(const ServerConfig& config);

}  // namespace pga::server
