// Runs initdb and pg_ctl (fork + exec, no shell) from the newest /usr/lib/postgresql/*/bin.
// The cluster logs to its own log/ directory with the settings our log reader expects.
#include "pganalytics/db/managed_postgres.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <random>
#include <stdexcept>
#include <vector>

#include "pganalytics/common/log.hpp"

namespace pga::db {
namespace fs = std::filesystem;
namespace {

fs::path newest_postgres_bin() {
  std::vector<fs::path> candidates;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator("/usr/lib/postgresql", ec))
    if (fs::exists(entry.path() / "bin" / "initdb")) candidates.push_back(entry.path() / "bin");
  if (candidates.empty())
    throw std::runtime_error("no PostgreSQL server binaries under /usr/lib/postgresql (install postgresql-15)");
  std::sort(candidates.begin(), candidates.end(), [](const fs::path& a, const fs::path& b) {
    return std::stoi(a.parent_path().filename().string()) < std::stoi(b.parent_path().filename().string());
  });
  return candidates.back();
}

// Runs `argv` (as `postgres` when we are root), output appended to `log`; returns the exit status.
int run(std::vector<std::string> argv, const fs::path& log) {
  if (::geteuid() == 0) argv.insert(argv.begin(), {"runuser", "-u", "postgres", "--"});
  pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    FILE* out = std::fopen(log.c_str(), "a");
    if (out) {
      ::dup2(fileno(out), STDOUT_FILENO);
      ::dup2(fileno(out), STDERR_FILENO);
    }
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(a.data());
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    std::_Exit(127);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

void give_to_postgres(const fs::path& dir) {
  if (::geteuid() != 0) return;
  struct passwd* pw = ::getpwnam("postgres");
  if (!pw) throw std::runtime_error("running as root needs the `postgres` user (install postgresql-15)");
  if (::chown(dir.c_str(), pw->pw_uid, pw->pw_gid) != 0)
    throw std::runtime_error("cannot hand " + dir.string() + " to the postgres user");
}

void write_settings(const fs::path& data, const fs::path& socket_dir, int port) {
  std::ofstream conf(data / "postgresql.auto.conf", std::ios::trunc);
  conf << fmt::format(
      "listen_addresses = '127.0.0.1'\nport = {}\nunix_socket_directories = '{}'\n"
      "shared_preload_libraries = 'pg_stat_statements'\nlogging_collector = on\nlog_directory = 'log'\n"
      "log_filename = 'postgresql-%Y-%m-%d.log'\nlog_line_prefix = '%m [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h '\n"
      "log_checkpoints = on\nlog_autovacuum_min_duration = 0\nlog_lock_waits = on\nlog_temp_files = 0\n"
      "lc_messages = 'C'\ntrack_io_timing = on\n",
      port, socket_dir.string());
}

}  // namespace

ManagedPostgres::ManagedPostgres(fs::path dir, fs::path bin, int port)
    : dir_(std::move(dir)), bin_(std::move(bin)), port_(port), running_(true) {}

ManagedPostgres::ManagedPostgres(ManagedPostgres&& other) noexcept
    : dir_(std::move(other.dir_)), bin_(std::move(other.bin_)), port_(other.port_), running_(other.running_) {
  other.running_ = false;
}

ManagedPostgres::~ManagedPostgres() { stop(); }

ManagedPostgres ManagedPostgres::start(const fs::path& dir) {
  const auto bin = newest_postgres_bin();
  fs::create_directories(dir);
  fs::permissions(dir, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
  give_to_postgres(dir);
  const auto data = dir / "data";
  const auto log = dir / "pg_ctl.log";
  if (::geteuid() == 0 && run({"test", "-w", dir.string()}, log) != 0)
    throw std::runtime_error("the postgres user cannot reach " + dir.string() +
                             " (a parent directory is private): choose a --dir under /var/tmp or /srv");
  if (!fs::exists(data / "PG_VERSION") &&
      run({(bin / "initdb").string(), "-D", data.string(), "-U", "postgres", "--auth=trust", "-E", "UTF8",
           "--locale=C", "--no-instructions"},
          log) != 0)
    throw std::runtime_error("initdb failed; see " + log.string());
  // A demo that died without its stop path (kill -9) left its server running on this data
  // directory, and every start below would fail on the lock file: stop it first.
  if (fs::exists(data / "postmaster.pid") && run({(bin / "pg_ctl").string(), "-D", data.string(), "status"}, log) == 0) {
    log::warn("a PostgreSQL left running under {} by an earlier run is stopped first", dir.string());
    if (run({(bin / "pg_ctl").string(), "-D", data.string(), "-m", "fast", "-w", "-t", "60", "stop"}, log) != 0)
      throw std::runtime_error("a PostgreSQL still runs under " + dir.string() + " and could not be stopped; see " +
                               log.string());
  }
  std::mt19937 random(std::random_device{}());
  for (int attempt = 0; attempt < 20; ++attempt) {
    const int port = 20000 + static_cast<int>(random() % 40000);
    write_settings(data, dir, port);
    if (run({(bin / "pg_ctl").string(), "-D", data.string(), "-l", (dir / "server.log").string(), "-w", "-t", "60",
             "start"},
            log) == 0)
      return ManagedPostgres(dir, bin, port);
  }
  throw std::runtime_error("PostgreSQL did not start; see " + log.string());
}

std::string ManagedPostgres::url(const std::string& database) const {
  return fmt::format("postgresql://postgres@127.0.0.1:{}/{}", port_, database);
}

void ManagedPostgres::stop() {
  if (!running_) return;
  running_ = false;
  run({(bin_ / "pg_ctl").string(), "-D", (dir_ / "data").string(), "-m", "fast", "-w", "stop"}, dir_ / "pg_ctl.log");
}

}  // namespace pga::db
