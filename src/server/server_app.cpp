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
  context.ingest_queue = std::make_shared<ingest::IngestQueue>(io.get_executor(), context.pool,
                                                               context.pool->size() / 2, kMaxGroup);
  impl->tls = make_tls(config, *context.key_material.ca);
  auto listen = split_listen_address(config.listen, "0.0.0.0");
  net::ServerOptions options;
  options.address = listen.host;
  options.port = listen.port;
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
