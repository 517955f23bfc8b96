// A PostgreSQL cluster that pganalytics runs itself (the demo): initdb under a directory with
// the installed server binaries, started on a free 127.0.0.1 port, stopped on request.
#pragma once
#include <filesystem>
#include <string>

namespace pga::db {

class ManagedPostgres {
 public:
  // Creates the cluster in `dir` on first use (as user `postgres` when running as root, since
  // PostgreSQL refuses to run as root) and starts it. Throws std::runtime_error on failure.
  static ManagedPostgres start(const std::filesystem::path& dir);
  ManagedPostgres(ManagedPostgres&&) noexcept;
  ~ManagedPostgres();  // stops the server (fast shutdown)

  int port() const { return port_; }
  // A libpq URL for `database` as the cluster's superuser.
  std::string url(const std::string& database) const;
  void stop();

 private:
  ManagedPostgres(std::filesystem::path dir, std::filesystem::path bin, int port);
  std::filesystem::path dir_;
  std::filesystem::path bin_;
  int port_;
  bool running_ = false;
};

}  // namespace pga::db
