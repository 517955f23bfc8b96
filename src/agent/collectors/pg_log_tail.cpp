// The log tail: follower entries classified and rate-limited per read into pg_log samples; the
// position each read ends at is what commit() writes, never a position past unreturned events.
#include "pganalytics/agent/collectors/pg_log_tail.hpp"

#include "pganalytics/agent/log/event.hpp"
#include "pganalytics/agent/log/samples.hpp"

namespace pga::agent::collectors {
namespace {

namespace fs = std::filesystem;
using agent::log::FollowerState;

bool same_position(const std::optional<FollowerState>& a, const std::optional<FollowerState>& b) {
  if (!a || !b) return a.has_value() == b.has_value();
  return a->path == b->path && a->id == b->id && a->offset == b->offset && a->head_size == b->head_size &&
         a->head_hash == b->head_hash;
}

agent::log::FollowerOptions follower_options(const LogSource& source, agent::log::TimeZones zones,
                                             const LogTailOptions& options) {
  agent::log::FollowerOptions out;
  out.state_file = options.state_file;
  out.reader.format = source.format;
  out.reader.line_prefix = source.line_prefix;
  out.reader.zones = std::move(zones);
  out.max_bytes_per_poll = options.max_bytes_per_poll;
  return out;
}

}  // namespace

LogTail::LogTail(LogSource source, agent::log::TimeZones zones, LogTailOptions options)
    : source_(std::move(source)),
      options_(std::move(options)),
      // The follower asks where to go on only from within poll(), when it is fully built.
      follower_(follower_options(source_, std::move(zones), options_),
                [this] {
                  auto reading = follower_.state();
                  return reading ? source_.after(reading->path) : source_.current();
                }),
      returned_(follower_.state()),
      committed_(returned_) {}

LogTail::Read LogTail::read(std::chrono::system_clock::time_point now) {
  agent::log::RateLimiter limiter(options_.limits);
  Read out;
  out.poll = follower_.poll([&](agent::log::LogEntry&& entry) { limiter.add(agent::log::classify(entry)); });
  out.samples = agent::log::to_samples(limiter.take(), options_.instance, now);
  returned_ = follower_.state();
  return out;
}

std::error_code LogTail::commit() {
  if (!returned_ || same_position(returned_, committed_)) return {};
  std::error_code ec;
  fs::create_directories(options_.state_file.parent_path(), ec);
  if (ec) return ec;
  ec = agent::log::save_follower_state(options_.state_file, *returned_);
  if (!ec) committed_ = returned_;
  return ec;
}

bool LogTail::uncommitted() const { return !same_position(returned_, committed_); }

std::optional<fs::path> LogTail::file() const {
  auto state = follower_.state();
  if (!state) return std::nullopt;
  return state->path;
}

}  // namespace pga::agent::collectors
