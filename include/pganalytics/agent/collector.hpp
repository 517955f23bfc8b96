// A collector reads one metric family from one source (a PostgreSQL instance or this host) and
// knows nothing of spooling or transport; the scheduler calls it on its own interval.
#pragma once
#include <boost/asio/awaitable.hpp>

#include <memory>
#include <string>
#include <vector>

#include "pganalytics/metrics/sample.hpp"

namespace pga::agent {

class Collector {
 public:
  virtual ~Collector() = default;
  virtual const std::string& family() const = 0;
  virtual const std::string& instance() const = 0;  // empty for host families
  // Throws when the source cannot be read this time (instance down, missing privilege); the
  // scheduler logs it, counts it and tries again at the next tick.
  virtual boost::asio::awaitable<std::vector<metrics::Sample>> collect() = 0;
  // Everything this collector's completed collect() calls returned is now in the spool: a
  // collector that keeps a read position (the log) may persist it.
  virtual void on_spooled() {}
};

using CollectorPtr = std::unique_ptr<Collector>;

}  // namespace pga::agent
