// The agent's runtime on one io_context: one loop per collector, a sealer that turns collected
// samples into spooled batches, a sender that drains the spool oldest-first, a config poller,
// and two-stage shutdown (first signal seals what was collected and stops; second exits).
#include "pganalytics/agent/agent_app.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "pganalytics/agent/batch.hpp"
#include "pganalytics/agent/collectors/host_collectors.hpp"
#include "pganalytics/agent/collectors/instance_collectors.hpp"
#include "pganalytics/agent/credentials.hpp"
#include "pganalytics/agent/enrolment.hpp"
#include "pganalytics/agent/key_pair_files.hpp"
#include "pganalytics/agent/remote_config.hpp"
#include "pganalytics/agent/retry_policy.hpp"
#include "pganalytics/agent/spool.hpp"
#include "pganalytics/cli/command.hpp"
#include "pganalytics/common/host.hpp"
#include "pganalytics/common/log.hpp"
#include "pganalytics/net/gzip.hpp"
#include "pganalytics/common/prometheus.hpp"
#include "pganalytics/common/run_async.hpp"
#include "pganalytics/metrics/sample_check.hpp"
#include "pganalytics/net/http_client.hpp"
#include "pganalytics/net/http_server.hpp"
#include "pganalytics/net/tls.hpp"
#include "pganalytics/security/ca.hpp"
#include "pganalytics/version.hpp"

namespace pga::agent {
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto kConfigPollInterval = 5min;

std::shared_ptr<asio::ssl::context> load_tls(const StateFiles& files) {
  return std::make_shared<asio::ssl::context>(net::make_client_tls_context(
      read_text_file(files.ca()), read_text_file(files.certificate()), read_text_file(files.key())));
}

const char* outcome_name(PushOutcome outcome) {
  switch (outcome) {
    case PushOutcome::Ok: return "ok";
    case PushOutcome::Retry: return "retry";
    case PushOutcome::Drop: return "drop";
    case PushOutcome::Refresh: return "refresh";
  }
  return "retry";
}

std::int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  boost::system::error_code ec;
  co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
}

// The agent's own metrics (pganalytics_agent_*), served on [agent] metrics_listen.
struct AgentMetrics {
  prometheus::Registry registry;
  prometheus::Registry::Counter& collections = registry.counter(
      "pganalytics_agent_collections_total", "Collector runs by family and outcome.", {"family", "outcome"});
  prometheus::Registry::Histogram& collection_seconds =
      registry.histogram("pganalytics_agent_collection_duration_seconds", "Time a collector run takes, by family.",
                         {"family"}, {0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5});
  prometheus::Registry::Counter& pushes =
      registry.counter("pganalytics_agent_pushes_total", "Push attempts by outcome.", {"outcome"});
};

}  // namespace

class AgentRuntime::Impl {
 public:
  Impl(asio::io_context& io, AgentConfig config, StateFiles files, Credentials credentials)
      : io_(io),
        config_(std::move(config)),
        files_(std::move(files)),
        credentials_(std::move(credentials)),
        server_(parse_server_url(credentials_.server_url)),
        tls_(load_tls(files_)),
        client_(std::make_unique<net::HttpsClient>(io.get_executor(), *tls_, server_.host, server_.port)),
        spool_(Spool::open(files_.dir / "spool", SpoolOptions{config_.spool_max_bytes})),
        wake_sender_(io),
        header_{credentials_.collector_id, kVersion, local_hostname()} {
    collectors_ = collectors::make_host_collectors();
    const collectors::InstanceEnvironment env{io.get_executor(), files_.dir, query_texts_};
    for (const auto& instance : config_.instances)
      for (auto& collector : collectors::make_instance_collectors(instance, env)) collectors_.push_back(std::move(collector));
  }

  void start() {
    register_spool_metrics();
    if (!config_.metrics_listen.empty()) start_metrics_listener();
    for (auto& collector : collectors_) asio::co_spawn(io_, collect_loop(*collector), asio::detached);
    asio::co_spawn(io_, seal_loop(), asio::detached);
    asio::co_spawn(io_, send_loop(), asio::detached);
    asio::co_spawn(io_, config_loop(), asio::detached);
    log::info("agent started: collector {}, {} collector(s), server {}", credentials_.collector_id, collectors_.size(),
              credentials_.server_url);
  }

  // Seals what was collected so far, so a clean stop loses no sample.
  void seal_now() {
    if (pending_.empty() && query_texts_.empty()) return;
    auto samples = std::move(pending_);
    pending_.clear();
    auto query_texts = std::move(query_texts_);
    query_texts_.clear();
    auto seq = spool_.append([&](std::uint64_t seq, const std::vector<SeqRange>& dropped) {
      return batch_json(header_, seq, samples, dropped, query_texts);
    });
    log::debug("spooled batch {} ({} samples)", seq, samples.size());
    for (auto& collector : collectors_) collector->on_spooled();
    wake_sender_.cancel();
  }

  // Until the sender has emptied the spool, at most `limit`.
  asio::awaitable<void> drain(std::chrono::milliseconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (spool_.stats().batches > 0 && std::chrono::steady_clock::now() < deadline) co_await sleep_for(50ms);
  }

 private:
  void register_spool_metrics() {
    metrics_.registry.collected(
        "pganalytics_agent_spool_bytes", "Disk used by the spool.", "gauge", {},
        [this] { return prometheus::Registry::Series{{{}, static_cast<double>(spool_.stats().bytes)}}; });
    metrics_.registry.collected(
        "pganalytics_agent_spool_batches", "Batches waiting in the spool.", "gauge", {},
        [this] { return prometheus::Registry::Series{{{}, static_cast<double>(spool_.stats().batches)}}; });
    metrics_.registry.collected("pganalytics_agent_spool_dropped_batches_total",
                                "Batches given up because the spool was full, since start.", "counter", {}, [this] {
                                  return prometheus::Registry::Series{
                                      {{}, static_cast<double>(spool_.stats().dropped_batches)}};
                                });
  }

  void start_metrics_listener() {
    net::Router router;
    router.add("GET", "/metrics", [this](net::Request&) -> asio::awaitable<net::Response> {
      net::Response response;
      response.content_type = "text/plain; version=0.0.4; charset=utf-8";
      response.body = metrics_.registry.render();
      co_return response;
    });
    const auto [host, port] = split_listen_address(config_.metrics_listen, "127.0.0.1");
    net::ServerOptions options;
    options.address = host;
    options.port = port;
    metrics_server_ = std::make_unique<net::HttpServer>(io_, std::move(router), options);
    metrics_server_->start();
    log::info("agent metrics on http://{}/metrics", config_.metrics_listen);
  }

  // Runs the collector every interval. A new configuration wakes the loop (see apply_config), so
  // a shorter interval or a re-enabled family takes effect at once, not after the old interval.
  asio::awaitable<void> collect_loop(Collector& collector) {
    asio::steady_timer timer(io_);
    collect_timers_.push_back(&timer);  // never removed: the loops live as long as the runtime
    bool failing = false;
    bool invalid_reported = false;
    std::chrono::steady_clock::time_point last_run{};
    for (;;) {
      const auto interval = remote_.interval_for(collector.family(), config_.collect_interval);
      const bool enabled = remote_.enabled(collector.family());
      if (enabled && std::chrono::steady_clock::now() - last_run >= interval) {
        const auto started = std::chrono::steady_clock::now();
        last_run = started;
        try {
          auto samples = co_await collector.collect();
          const bool all_valid = keep_valid(collector, samples, invalid_reported);
          metrics_.collections.inc({collector.family(), all_valid ? "ok" : "invalid"});
          metrics_.collection_seconds.observe(
              {collector.family()}, std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
          if (failing) log::info("{} {}: collecting again", collector.family(), collector.instance());
          failing = false;
        } catch (const std::exception& e) {
          metrics_.collections.inc({collector.family(), "error"});
          if (!failing) log::warn("{} {}: {}", collector.family(), collector.instance(), log::redact(e.what()));
          failing = true;
        }
      }
      timer.expires_at(enabled ? last_run + interval : std::chrono::steady_clock::now() + interval);
      boost::system::error_code ec;
      co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    }
  }

  // Moves the samples the server will take into pending_; a bad one (a collector's bug) is left
  // out and logged once until its collector is clean again, since the server would refuse the
  // whole batch, every other family's samples with it.
  bool keep_valid(const Collector& collector, std::vector<metrics::Sample>& samples, bool& reported) {
    bool all_valid = true;
    for (auto& sample : samples) {
      if (auto problem = metrics::sample_problem(sample)) {
        if (!reported) log::error("{} {}: sample left out: {}", collector.family(), collector.instance(), *problem);
        reported = true;
        all_valid = false;
        continue;
      }
      pending_.push_back(std::move(sample));
    }
    if (all_valid) reported = false;
    return all_valid;
  }

  void apply_config(RemoteConfig config) {
    const bool changed = config.version != remote_.version;
    remote_ = std::move(config);
    if (!changed) return;
    log::info("applied configuration version {}", remote_.version);
    for (auto* timer : collect_timers_) timer->cancel();
  }

  asio::awaitable<void> seal_loop() {
    for (;;) {
      co_await sleep_for(config_.collect_interval);
      seal_now();
    }
  }

  asio::awaitable<net::ClientResponse> push(const SpooledBatch& batch) {
    net::Fields headers;
    headers.emplace_back("Authorization", "Bearer " + credentials_.access_token);
    headers.emplace_back("Content-Type", "application/json");
    co_return co_await client_->request("POST", "/api/v1/metrics/push", batch.payload, headers, true, 30s);
  }

  // Trades the refresh token for new tokens; false when the server refuses (re-enrolment needed).
  asio::awaitable<bool> refresh_tokens() {
    net::Fields headers;
    headers.emplace_back("Content-Type", "application/json");
    const auto body = boost::json::serialize(boost::json::object{{"refresh_token", credentials_.refresh_token}});
    auto response = co_await client_->request("POST", "/api/v1/auth/refresh", body, headers, false, 30s);
    if (response.status != 200) {
      if (error_code_of(response.body) == "collector_disabled")
        log::warn("this collector is disabled on the server: its batches wait in the spool until it is enabled");
      else
        log::error("the server refused to refresh this agent's tokens (HTTP {}): run `pganalytics register --force`",
                   response.status);
      co_return false;
    }
    auto answer = boost::json::parse(response.body).as_object();
    credentials_.access_token = std::string(answer.at("access_token").as_string());
    credentials_.refresh_token = std::string(answer.at("refresh_token").as_string());
    save_credentials(files_, credentials_);
    co_return true;
  }

  void note_config_version(const net::ClientResponse& response) {
    boost::system::error_code ec;
    auto value = boost::json::parse(response.body, ec);
    if (ec || !value.is_object()) return;
    if (auto* version = value.as_object().if_contains("config_version"); version && version->is_int64())
      if (version->as_int64() > remote_.version) wake_config_ = true;
  }

  // Renews the client certificate at 2/3 of its lifetime with a new key made here; checked at
  // most hourly, retried in 10 minutes after a failure.
  asio::awaitable<void> renew_certificate_if_due() {
    const auto now = std::chrono::system_clock::now();
    if (now < next_renewal_check_) co_return;
    next_renewal_check_ = now + 1h;
    const auto current = read_text_file(files_.certificate());
    if (!certificate_renewal_due(security::certificate_not_before(current), security::certificate_not_after(current),
                                 unix_now()))
      co_return;
    const auto key = security::generate_ec_p256_private_key_pem();
    net::Fields headers;
    headers.emplace_back("Authorization", "Bearer " + credentials_.access_token);
    headers.emplace_back("Content-Type", "application/json");
    const auto body = boost::json::serialize(boost::json::object{{"csr", security::make_csr(key, header_.hostname)}});
    const auto target = "/api/v1/collectors/" + credentials_.collector_id + "/certificate";
    std::optional<net::ClientResponse> response;
    try {
      response = co_await client_->request("POST", target, body, headers, false, 30s);
    } catch (const std::exception& e) {
      log::warn("certificate renewal failed: {}", e.what());
    }
    if (!response || response->status != 200) {
      next_renewal_check_ = now + 10min;
      if (response) log::warn("certificate renewal refused (HTTP {})", response->status);
      co_return;
    }
    const auto certificate = std::string(boost::json::parse(response->body).as_object().at("certificate").as_string());
    install_key_pair(files_, key, certificate);
    tls_ = load_tls(files_);
    client_ = std::make_unique<net::HttpsClient>(io_.get_executor(), *tls_, server_.host, server_.port);
    ++tls_generation_;
    log::info("renewed the client certificate (valid until {})", security::certificate_not_after(certificate));
  }

  asio::awaitable<void> send_loop() {
    Backoff backoff;
    for (;;) {
      co_await renew_certificate_if_due();
      auto batch = spool_.oldest();
      if (!batch) {
        wake_sender_.expires_after(10s);
        boost::system::error_code ec;
        co_await wake_sender_.async_wait(asio::redirect_error(asio::use_awaitable, ec));
        continue;
      }
      std::optional<net::ClientResponse> response;
      try {
        response = co_await push(*batch);
      } catch (const std::exception& e) {
        log::warn("push of batch {} failed: {}", batch->seq, e.what());
      }
      const auto error_code = response ? error_code_of(response->body) : std::string();
      const auto outcome = response ? classify_push_status(response->status, error_code) : PushOutcome::Retry;
      if (error_code == "collector_disabled")
        log::warn("this collector is disabled on the server: batch {} and the next wait in the spool", batch->seq);
      metrics_.pushes.inc({outcome_name(outcome)});
      if (outcome == PushOutcome::Ok) {
        spool_.acknowledge(batch->seq);
        note_config_version(*response);
        backoff.reset();
        continue;
      }
      if (outcome == PushOutcome::Drop) {
        log::error("the server refused batch {} for good (HTTP {}): kept in {}/rejected", batch->seq, response->status,
                   files_.dir.string());
        spool_.quarantine(batch->seq, response->status, response->body);
        continue;
      }
      if (outcome == PushOutcome::Refresh) {
        bool refreshed = false;
        try {
          refreshed = co_await refresh_tokens();
        } catch (const std::exception& e) {
          log::warn("token refresh failed: {}", e.what());
        }
        if (refreshed) continue;
      }
      std::optional<std::chrono::seconds> retry_after;
      if (response) retry_after = parse_retry_after(response->header("Retry-After"));
      const auto wait = backoff.next(retry_after);
      log::debug("retrying batch {} in {} ms", batch->seq, wait.count());
      co_await sleep_for(wait);
    }
  }

  asio::awaitable<void> config_loop() {
    std::string etag;
    auto tls = tls_;
    int generation = tls_generation_;
    auto config_client = std::make_unique<net::HttpsClient>(io_.get_executor(), *tls, server_.host, server_.port);
    for (;;) {
      if (generation != tls_generation_) {
        tls = tls_;
        generation = tls_generation_;
        config_client = std::make_unique<net::HttpsClient>(io_.get_executor(), *tls, server_.host, server_.port);
      }
      try {
        net::Fields headers;
        headers.emplace_back("Authorization", "Bearer " + credentials_.access_token);
        if (!etag.empty()) headers.emplace_back("If-None-Match", etag);
        const auto target = "/api/v1/config/" + credentials_.collector_id;
        auto response = co_await config_client->request("GET", target, "", headers, false, 30s);
        if (response.status == 200) {
          apply_config(parse_remote_config(response.body));
          etag = std::string(response.header("ETag").value_or(""));
        }
      } catch (const std::exception& e) {
        log::warn("configuration poll failed: {}", e.what());
      }
      for (auto waited = 0s; waited < kConfigPollInterval && !wake_config_; waited += 1s) co_await sleep_for(1s);
      wake_config_ = false;
    }
  }

  asio::io_context& io_;
  AgentConfig config_;
  StateFiles files_;
  Credentials credentials_;
  ServerAddress server_;
  // The sender's client; the config poller has its own (an HttpsClient carries one request at a
  // time). Both are rebuilt with the new certificate after a renewal.
  std::shared_ptr<asio::ssl::context> tls_;
  std::unique_ptr<net::HttpsClient> client_;
  int tls_generation_ = 0;
  std::chrono::system_clock::time_point next_renewal_check_{};
  Spool spool_;
  asio::steady_timer wake_sender_;
  BatchHeader header_;
  std::vector<CollectorPtr> collectors_;
  std::vector<metrics::Sample> pending_;
  std::vector<metrics::QueryText> query_texts_;  // from pg_statements, sealed with pending_
  RemoteConfig remote_;
  std::vector<asio::steady_timer*> collect_timers_;
  bool wake_config_ = false;
  AgentMetrics metrics_;
  std::unique_ptr<net::HttpServer> metrics_server_;
};

AgentRuntime::AgentRuntime(asio::io_context& io, AgentConfig config, StateFiles files, Credentials credentials)
    : impl_(std::make_unique<Impl>(io, std::move(config), std::move(files), std::move(credentials))) {}
AgentRuntime::~AgentRuntime() = default;
void AgentRuntime::start() { impl_->start(); }
void AgentRuntime::seal_now() { impl_->seal_now(); }
asio::awaitable<void> AgentRuntime::drain(std::chrono::milliseconds limit) { co_await impl_->drain(limit); }

namespace {

asio::awaitable<void> wait_for_signals(asio::signal_set& signals, AgentRuntime& runtime, asio::io_context& io) {
  co_await signals.async_wait(asio::use_awaitable);
  log::info("stopping: sealing collected samples into the spool");
  runtime.seal_now();
  io.stop();
}

}  // namespace

int run_agent(const AgentConfig& config) {
  StateFiles files{config.state_dir};
  auto credentials = load_credentials(files);
  if (!credentials) {
    log::error("{} is not enrolled: run `pganalytics register` first", files.dir.string());
    return cli::kExitFailure;
  }
  finish_key_pair_install(files);
  asio::io_context io(1);
  auto runtime = std::make_unique<AgentRuntime>(io, config, files, *credentials);
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::co_spawn(io, wait_for_signals(signals, *runtime, io), asio::detached);
  runtime->start();
  io.run();
  keep_until_exit(std::move(runtime));
  log::info("stopped");
  return cli::kExitOk;
}

}  // namespace pga::agent
