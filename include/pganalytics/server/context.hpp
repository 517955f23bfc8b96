// What every server handler shares: configuration, the database pool, the key material (CA and
// JWT key ring), the login limiter, the password hashing threads, the audit throttle and a pool
// for parsing pushes.
#pragma once
#include <boost/asio/thread_pool.hpp>

#include <memory>
#include <string>

#include "pganalytics/common/prometheus.hpp"
#include "pganalytics/common/server_config.hpp"
#include "pganalytics/db/async_pg.hpp"
#include "pganalytics/security/ca.hpp"
#include "pganalytics/security/jwt.hpp"
#include "pganalytics/server/audit_throttle.hpp"
#include "pganalytics/server/login_limiter.hpp"
#include "pganalytics/server/password_hasher.hpp"

namespace pga::server {

namespace ingest {
class IngestQueue;
}

inline constexpr const char* kIssuer = "pganalytics";
inline constexpr const char* kAgentAudience = "pganalytics-agent";
inline constexpr const char* kUserAudience = "pganalytics-user";

struct KeyMaterial {
  std::shared_ptr<const security::CertificateAuthority> ca;
  std::shared_ptr<const security::KeyRing> keys;
};

// The server's own metrics (pganalytics_server_*), exposed on GET /metrics.
struct ServerMetrics {
  prometheus::Registry registry;
  prometheus::Registry::Counter& requests =
      registry.counter("pganalytics_server_http_requests_total", "HTTP requests answered, by route, method and status.",
                       {"route", "method", "status"});
  prometheus::Registry::Histogram& latency = registry.histogram(
      "pganalytics_server_http_request_duration_seconds", "Time to answer HTTP requests, by route.", {"route"},
      {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
};

struct ServerContext {
  ServerConfig config;
  ServerMetrics metrics;
  std::shared_ptr<db::PgPool> pool;
  std::shared_ptr<ingest::IngestQueue> ingest_queue;
  KeyMaterial key_material;
  LoginLimiter login_limiter;
  // Derives what a repeated refresh answers again (sessions.cpp); from the master key, so every
  // replica derives the same.
  std::string session_secret;
  std::unique_ptr<PasswordHasher> hasher;
  AuditThrottle audit_throttle;
  boost::asio::thread_pool cpu_pool{2};  // parsing pushed batches
};

}  // namespace pga::server
