// pga_bench_ingest: `load` enrols N simulated agents and pushes realistic batches to a running
// server, reporting throughput and latency; `copy-files` rebuilds the stored rows for COPY.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <thread>

#include "batch_bodies.hpp"
#include "copy_files.hpp"
#include "enrol_agents.hpp"
#include "load_report.hpp"
#include "push_agents.hpp"

namespace {

using namespace pga::bench;
using namespace std::chrono_literals;

struct LoadOptions {
  std::string server_url;
  std::string ca_file;
  std::string token;
  std::size_t agents = 200;
  std::size_t values = 5000;
  double interval_s = 60;  // 0: back-to-back
  double duration_s = 120;
  std::size_t batches = 30;  // per agent, back-to-back mode only
  unsigned threads = 1;
  std::size_t enrol_concurrency = 8;
  double timeout_s = 30;
  std::string state_dir;
  std::string manifest;
};

std::chrono::milliseconds millis(double seconds) {
  return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000));
}

double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Paced: agent i's slots i·interval/N + k·interval that fall inside the duration.
// Back-to-back: a fixed number each, the duration cutting the run short if it comes first.
std::vector<std::size_t> batches_per_agent(const LoadOptions& options, const PushSchedule& schedule) {
  std::vector<std::size_t> batches(options.agents, options.batches);
  if (schedule.interval.count() == 0) return batches;
  for (std::size_t i = 0; i < options.agents; ++i) {
    const auto phase = schedule.interval.count() * static_cast<long>(i) / static_cast<long>(options.agents);
    const auto span = schedule.duration.count() - phase;
    batches[i] = span <= 0 ? 0 : static_cast<std::size_t>((span + schedule.interval.count() - 1) / schedule.interval.count());
  }
  return batches;
}

int run_load(const LoadOptions& options) {
  const auto ca_pem = read_file(options.ca_file);
  PushSchedule schedule;
  schedule.interval = millis(options.interval_s);
  schedule.duration = millis(options.duration_s);
  schedule.grace = std::max<std::chrono::milliseconds>(30s, schedule.interval);
  schedule.request_timeout = millis(options.timeout_s);
  schedule.threads = options.threads;
  const auto shape = BatchShape::for_values(options.values);
  fmt::print("{} agents, {} values per batch ({} rows: 1 sysstat, {} pg_stats_database, {} pg_stats_table), ",
             options.agents, shape.values(), shape.rows(), shape.databases, shape.tables);
  if (options.interval_s > 0) fmt::print("one batch per agent every {} s for {} s\n", options.interval_s, options.duration_s);
  else fmt::print("{} batches per agent back-to-back, for at most {} s\n", options.batches, options.duration_s);

  boost::asio::io_context io;
  const EnrolmentPlan plan{options.server_url, ca_pem, options.token, options.agents, options.enrol_concurrency,
                           options.state_dir};
  const auto enrol_start = Clock::now();
  const auto enrolled = enrol_agents(io, plan);
  fmt::print("enrolled {} agents in {:.1f} s\n", enrolled.size(), seconds_between(enrol_start, Clock::now()));

  RunManifest manifest;
  manifest.start_unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                               .count();
  manifest.step_ms = options.interval_s > 0 ? schedule.interval.count() : 1000;
  manifest.values = options.values;
  for (const auto& agent : enrolled) manifest.agents.push_back({agent.collector_id, 0});
  const auto batches = batches_per_agent(options, schedule);
  std::size_t planned = 0;
  for (auto count : batches) planned += count;
  const auto build_start = Clock::now();
  auto bodies = build_bodies(manifest, shape, batches, std::max(2u, std::thread::hardware_concurrency()));
  std::size_t body_bytes = 0;
  for (const auto& agent : bodies)
    for (const auto& body : agent) body_bytes += body.size();
  fmt::print("built {} gzip batches in {:.1f} s, {:.1f} KiB each on average\n", planned,
             seconds_between(build_start, Clock::now()), planned ? static_cast<double>(body_bytes) / 1024.0 / static_cast<double>(planned) : 0.0);

  const auto cpu_before = cpu_seconds();
  const auto outcome = push_all(options.server_url, ca_pem, enrolled, std::move(bodies), schedule);
  const auto cpu_spent = cpu_seconds() - cpu_before;
  for (std::size_t i = 0; i < outcome.agents.size(); ++i) manifest.agents[i].stored_seq = outcome.agents[i].stored_seq;
  if (!options.manifest.empty()) write_manifest(options.manifest, manifest);
  const LoadFigures figures{options.agents, options.interval_s, planned, cpu_spent};
  return print_load_report(figures, shape, outcome) > 0 ? 0 : 1;
}

int run_copy_files(const std::string& manifest_path, const std::string& owners_path, const std::string& out_dir) {
  const auto manifest = read_manifest(manifest_path);
  const auto rows = write_copy_files(manifest, read_owners(owners_path), out_dir);
  std::uint64_t total = 0;
  for (const auto& [family, count] : rows) {
    fmt::print("{}: {} rows\n", family, count);
    total += count;
  }
  fmt::print("RESULT rows={}\n", total);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Ingest benchmark load generator for pganalytics", "pga_bench_ingest"};
  app.require_subcommand(1);

  LoadOptions load;
  auto* load_cmd = app.add_subcommand("load", "Enrol simulated agents and push batches to a running server");
  load_cmd->add_option("--server", load.server_url, "server URL, https://host:port")->required();
  load_cmd->add_option("--ca-file", load.ca_file, "the server's CA certificate (data_dir/ca.crt)")->required();
  load_cmd->add_option("--token", load.token, "an enrolment token with at least --agents uses")->required();
  load_cmd->add_option("--state-dir", load.state_dir, "where the agents' keys and certificates go")->required();
  load_cmd->add_option("--agents", load.agents, "simulated agents")->check(CLI::Range(1, 10000))->capture_default_str();
  load_cmd->add_option("--values", load.values, "values (cells) per agent per batch")
      ->check(CLI::Range(200, 1000000))
      ->capture_default_str();
  load_cmd->add_option("--interval", load.interval_s, "seconds between one agent's batches; 0 pushes back-to-back")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  load_cmd->add_option("--duration", load.duration_s, "seconds during which batches start")
      ->check(CLI::Range(1.0, 86400.0))
      ->capture_default_str();
  load_cmd->add_option("--batches", load.batches, "batches per agent with --interval 0")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  load_cmd->add_option("--threads", load.threads, "Asio threads pushing")->check(CLI::Range(1, 2))->capture_default_str();
  load_cmd->add_option("--enrol-concurrency", load.enrol_concurrency, "enrolments in flight at once")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  load_cmd->add_option("--timeout", load.timeout_s, "seconds one push may take")->check(CLI::Range(1.0, 600.0))->capture_default_str();
  load_cmd->add_option("--manifest", load.manifest, "write the run's manifest here (for copy-files)");

  std::string manifest_path, owners_path, out_dir;
  auto* copy_cmd = app.add_subcommand("copy-files", "Write the rows a load run stored as COPY text, per family");
  copy_cmd->add_option("--manifest", manifest_path, "the manifest `load` wrote")->required();
  copy_cmd->add_option("--owners", owners_path, "collector_id, server_id, instance_id per line, tab-separated")->required();
  copy_cmd->add_option("--out", out_dir, "directory for <family>.copy and <family>.columns")->required();

  CLI11_PARSE(app, argc, argv);
  try {
    if (load_cmd->parsed()) return run_load(load);
    return run_copy_files(manifest_path, owners_path, out_dir);
  } catch (const std::exception& error) {
    fmt::print(stderr, "pga_bench_ingest: {}\n", error.what());
    return 1;
  }
}
