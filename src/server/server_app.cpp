// Wires the server together and runs it until SIGINT/SIGTERM: the first signal drains in-flight
// requests for up to 10 s, a second one closes everything at once.
#include "pganalytics/server/server_app.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_future.hpp>

#include <filesystem>
#include <fstream>
#include <thread>

#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/host.hpp"
#include "pganalytics/common/log.hpp"
#include "pganalytics/common/run_async.hpp"
#include "pganalytics/db/migrations.hpp"
#include "pganalytics/net/http_server.hpp"
#include "pganalytics/net/tls.hpp"
#include "pganalytics/security/ca.hpp"
#include "pganalytics/server/ingest.hpp"
#include "pganalytics/server/ingest_queue.hpp"
#include "pganalytics/security/random.hpp"
#include "pganalytics/server/audit_events.hpp"
#include "pganalytics/server/key_material.hpp"
#include "pganalytics/server/maintenance.hpp"
#include "pganalytics/server/routes.hpp"

namespace pga::server {
namespace asio = boost::asio;
namespace {

// Batches one ingest transaction may hold. Large enough that the per-transaction statements and
// the COMMIT are small beside the rows; small enough that one failing batch, which sends its
// group back to be stored batch by batch, delays few others.
constexpr std::size_t kMaxGroup = 16;

std::string read_file(const std::string& path, const char* key) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw config::ConfigError(path, 0, key, "cannot read this file");
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_public_file(const std::filesystem::path& path, const std::string& text) {
  auto temporary = path;
  temporary += ".tmp";
  std::ofstream(temporary, std::ios::binary | std::ios::trunc) << text;
  std::filesystem::permissions(temporary, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write |
                                              std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  std::filesystem::rename(temporary, path);
}

// The listener's certificate: the configured files, or one issued by our CA for `hostnames`.
asio::ssl::context make_tls(const ServerConfig& config, const security::CertificateAuthority& ca) {
  if (!config.tls_cert.empty() || !config.tls_key.empty()) {
    if (config.tls_cert.empty() || config.tls_key.empty())
      throw config::ConfigError(config.file, 0, config.tls_cert.empty() ? "server.tls_cert" : "server.tls_key",
                                "tls_cert and tls_key go together");
    return net::make_server_tls_context(read_file(config.tls_cert, "server.tls_cert"),
                                        read_file(config.tls_key, "server.tls_key"), ca.certificate_pem());
  }
  auto key = security::generate_ec_p256_private_key_pem();
  auto certificate = ca.issue_server_certificate(config.hostnames, key, std::chrono::hours(24 * 90));
  return net::make_server_tls_context(certificate, key, ca.certificate_pem());
}

asio::awaitable<KeyMaterial> prepare_key_material(std::string url, std::string master_key) {
  auto executor = co_await asio::this_coro::executor;
  auto conn = co_await db::AsyncConnection::connect(executor, url, std::chrono::seconds(10));
  co_return co_await load_or_create_key_material(*conn, master_key);
}

asio::awaitable<void> wait_for_signals(asio::signal_set& signals, ServerInstance& server, asio::io_context& io) {
  co_await signals.async_wait(asio::use_awaitable);
  log::info("shutting down: finishing requests in flight (a second signal stops at once)");
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        co_await signals.async_wait(asio::use_awaitable);
        log::warn("second signal: closing every connection now");
        co_await server.stop(std::chrono::milliseconds(0));
      },
      asio::detached);
  co_await server.stop(std::chrono::seconds(10));
  io.stop();
}

void register_ingest_metrics(prometheus::Registry& registry) {
  registry.collected("pganalytics_server_batches_total", "Pushed batches by result.", "counter", {"result"}, [] {
    const auto& c = ingest::counters();
    return prometheus::Registry::Series{{{"stored"}, static_cast<double>(c.batches_stored.load())},
                                        {{"duplicate"}, static_cast<double>(c.batches_duplicate.load())},
                                        {{"rejected"}, static_cast<double>(c.batches_rejected.load())},
                                        {{"overloaded"}, static_cast<double>(c.batches_overloaded.load())}};
  });
  registry.collected("pganalytics_server_ingested_rows_total", "Metric rows stored, by family.", "counter", {"family"},
                     [] {
                       prometheus::Registry::Series series;
                       for (const auto& family : metrics::families())
                         series.push_back({{std::string(family.name)},
                                           static_cast<double>(ingest::counters().rows_of(family.name))});
                       return series;
                     });
  registry.collected("pganalytics_server_batches_grouped_total",
                     "Pushed batches stored in one transaction with others (group commit).", "counter", {}, [] {
                       return prometheus::Registry::Series{
                           {{}, static_cast<double>(ingest::counters().batches_grouped.load())}};
                     });
  registry.gauge("pganalytics_server_batches_in_flight", "Batches being parsed, queued or stored right now.",
                 [] { return static_cast<double>(ingest::counters().in_flight.load()); });
}

// Descriptors kept for what is not a client connection: the database pool, the listener, files
// (logs, the managed PostgreSQL's pipes), the inflation and CPU pools' event descriptors.
constexpr std::size_t kFilesBesidesConnections = 128;
constexpr std::size_t kMaxDerivedConnections = 65'536;

net::ServerLimits listener_limits(const ServerLimitsConfig& config, std::size_t pool_size) {
  net::ServerLimits limits;
  const auto fit = net::connection_capacity(pool_size + kFilesBesidesConnections, kMaxDerivedConnections);
  limits.max_connections = config.connections == 0 ? fit : std::min(config.connections, fit);
  if (config.connections > fit)
    log::warn("limits.connections = {} does not fit the open-file limit: {} connections at most", config.connections, fit);
  limits.max_connections_per_address = config.connections_per_address;
  limits.reserved_for_certificates = limits.max_connections / 8;
  limits.max_inflating_bytes = config.inflating_bytes;
  return limits;
}

void register_listener_metrics(prometheus::Registry& registry, const net::HttpServer& http,
                               const net::ServerLimits& limits) {
  registry.collected("pganalytics_server_connections_total", "Connections by what became of them at accept.",
                     "counter", {"outcome"}, [&http] {
                       const auto stats = http.stats();
                       return prometheus::Registry::Series{{{"accepted"}, static_cast<double>(stats.accepted)},
                                                           {{"refused"}, static_cast<double>(stats.refused)}};
                     });
  registry.collected("pganalytics_server_connections_evicted_total",
                     "Idle connections closed to make room for new ones.", "counter", {},
                     [&http] { return prometheus::Registry::Series{{{}, static_cast<double>(http.stats().evicted)}}; });
  registry.gauge("pganalytics_server_connections_open", "Connections counted against the limits now.",
                 [&http] { return static_cast<double>(http.stats().open); });
  registry.gauge("pganalytics_server_connections_limit", "Connections the server holds at most.",
                 [cap = limits.max_connections] { return static_cast<double>(cap); });
  registry.gauge("pganalytics_server_connections_per_address_limit",
                 "Connections without a client certificate one address may hold.",
                 [cap = limits.max_connections_per_address] { return static_cast<double>(cap); });
  registry.gauge("pganalytics_server_inflating_bytes", "Bytes of inflated request bodies held now.",
                 [&http] { return static_cast<double>(http.stats().inflating_bytes); });
  registry.collected("pganalytics_server_inflate_refused_total",
                     "Requests answered 503 because the inflation budget was spent.", "counter", {}, [&http] {
                       return prometheus::Registry::Series{{{}, static_cast<double>(http.stats().inflate_refused)}};
                     });
}

}  // namespace

struct ServerInstance::Impl {
  std::unique_ptr<ServerContext> context;
  asio::ssl::context tls{asio::ssl::context::tls_server};
  std::unique_ptr<net::HttpServer> http;
};

ServerInstance::ServerInstance(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ServerInstance::~ServerInstance() { impl_->context->cpu_pool.join(); }
std::uint16_t ServerInstance::port() const { return impl_->http->port(); }
ServerContext& ServerInstance::context() { return *impl_->context; }
asio::awaitable<void> ServerInstance::stop(std::chrono::milliseconds grace) {
  co_await impl_->http->stop(grace);
  // What the audit throttle only counted so far is written before the process goes.
  try {
    co_await flush_audit_summaries(*impl_->context, true);
  } catch (const std::exception& e) {
    log::warn("could not write the last audit summaries: {}", e.what());
  }
}

std::unique_ptr<ServerInstance> ServerInstance::start(asio::io_context& io, const ServerConfig& config) {
  if (config.database_url.empty())
    throw config::ConfigError(config.file, 0, "database.url",
                              "is empty: a managed PostgreSQL needs `pganalytics demo`; set the URL of the storage database");
  auto master_key = load_master_key(config.data_dir);
  {
    auto conn = db::PgConnection::connect(config.database_url);
    int applied = db::MigrationRunner(conn).apply([](const std::string& line) { log::info("{}", line); });
    if (applied) log::info("schema migrated ({} migration(s))", applied);
  }
  auto impl = std::make_unique<Impl>();
  impl->context = std::make_unique<ServerContext>();
  auto& context = *impl->context;
  context.config = config;
  context.login_limiter = LoginLimiter(config.login);
  context.session_secret = security::hmac_sha256(master_key, "pganalytics session secret v1");
  context.hasher = std::make_unique<PasswordHasher>(static_cast<std::size_t>(config.password_hash_threads),
                                                    static_cast<std::size_t>(config.password_hash_queue));
  context.key_material = run_on(io, prepare_key_material(config.database_url, master_key));
  write_public_file(std::filesystem::path(config.data_dir) / "ca.crt", context.key_material.ca->certificate_pem());

  const unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  context.pool = db::PgPool::create(io.get_executor(), config.database_url, 4 * threads);
  // Half the pool stores batches, each transaction holding up to kMaxGroup queued batches; the
  // other half keeps authentication and the query API answering under load. (One writer per core
  // was tried too: bench/README.md, "Group commit".)
  ingest::QueueOptions queue;
  queue.writers = context.pool->size() / 2;
  queue.max_group = kMaxGroup;
  queue.batches_per_collector = config.limits.batches_per_collector;
  queue.inventory = {config.limits.instances_per_collector, config.limits.databases_per_collector};
  context.ingest_queue = std::make_shared<ingest::IngestQueue>(io.get_executor(), context.cpu_pool.get_executor(),
                                                               context.pool, queue);
  impl->tls = make_tls(config, *context.key_material.ca);
  auto listen = split_listen_address(config.listen, "0.0.0.0");
  net::ServerOptions options;
  options.address = listen.host;
  options.port = listen.port;
  options.limits = listener_limits(config.limits, context.pool->size());
  options.observer = [metrics = &context.metrics](std::string_view route, std::string_view method, int status,
                                                  double seconds) {
    const std::string route_label = route.empty() ? "unmatched" : std::string(route);
    metrics->requests.inc({route_label, std::string(method), std::to_string(status)});
    metrics->latency.observe({route_label}, seconds);
  };
  context.metrics.registry.gauge("pganalytics_server_database_pool_connections",
                                 "Connections the storage database pool may open.",
                                 [pool = context.pool] { return static_cast<double>(pool->size()); });
  register_ingest_metrics(context.metrics.registry);
  context.metrics.registry.collected(
      "pganalytics_server_password_checks_total", "Passwords checked (argon2id), and checks refused as too many at once.",
      "counter", {"outcome"}, [hasher = context.hasher.get()] {
        return prometheus::Registry::Series{{{"checked"}, static_cast<double>(hasher->verifications())},
                                            {{"refused_busy"}, static_cast<double>(hasher->refused())}};
      });
  impl->http = std::make_unique<net::HttpServer>(io, impl->tls, make_routes(context), options);
  register_listener_metrics(context.metrics.registry, *impl->http, options.limits);
  impl->http->start();
  asio::co_spawn(io, maintenance_loop(context), asio::detached);
  asio::co_spawn(io, audit_summary_loop(context), asio::detached);
  log::info("listening on https://{}:{} (CA certificate: {}/ca.crt, fingerprint {})", listen.host, impl->http->port(),
            config.data_dir, security::certificate_fingerprint_sha256(context.key_material.ca->certificate_pem()));
  return std::unique_ptr<ServerInstance>(new ServerInstance(std::move(impl)));
}

int run_server(const ServerConfig& config) {
  asio::io_context io;
  auto server = ServerInstance::start(io, config);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::co_spawn(io, wait_for_signals(signals, *server, io), asio::detached);
  io.restart();
  const unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  std::vector<std::thread> workers;
  for (unsigned i = 1; i < threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& worker : workers) worker.join();
  keep_until_exit(std::move(server));
  log::info("stopped");
  return cli::kExitOk;
}

}  // namespace pga::server
