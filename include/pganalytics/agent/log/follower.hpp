// Following a PostgreSQL log file across polls, restarts, rotation and truncation: every entry
// is handed out once, from a position persisted as (device, inode, offset) in a small JSON file.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

#include "pganalytics/agent/log/entry.hpp"

namespace pga::agent::log {

struct FileId {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  bool operator==(const FileId&) const = default;
};

// The offset is the end of the last entry handed out. The fingerprint (size and hash of the
// first bytes) catches a file truncated and refilled past the offset between two looks, or an
// inode reused by a new file, which (device, inode, size) alone would take for the old one.
struct FollowerState {
  std::filesystem::path path;
  FileId id;
  std::uint64_t offset = 0;
  std::uint64_t head_size = 0;
  std::uint64_t head_hash = 0;
};

// nullopt when the file is missing or not a state file (the follower then starts afresh).
std::optional<FollowerState> load_follower_state(const std::filesystem::path& file);
// Written to a temporary file, fsynced and renamed over the old one, then the directory is
// fsynced: a crash leaves the old state or the new one, never a torn file.
std::error_code save_follower_state(const std::filesystem::path& file, const FollowerState& state);

struct FollowerOptions {
  std::filesystem::path state_file;  // empty: the position lives in memory only
  ReaderOptions reader;
  // A backlog (after downtime) is read over several polls, each bounded in time and memory.
  std::uint64_t max_bytes_per_poll = 8 << 20;
  std::size_t chunk_bytes = 64 << 10;
  // Without saved state, start at the end: history from before the agent ran would land in
  // old partitions in one burst. The files that follow are always read from their start.
  bool start_at_end = true;
};

struct PollResult {
  std::uint64_t bytes_read = 0;
  std::uint64_t entries = 0;
  bool rotated = false;    // finished a file and moved on to the current one
  bool truncated = false;  // the file shrank or was rewritten: read again from its start
  bool more = false;       // stopped at max_bytes_per_poll before the end
  std::string error;       // why nothing could be read; empty when fine
};

// Says which file the server writes now (find_current_log, or a configured fixed path).
using LogLocator = std::function<std::optional<std::filesystem::path>()>;

class LogFollower {
 public:
  LogFollower(FollowerOptions options, LogLocator locate);
  ~LogFollower();

  // Reads what was appended since the last poll and hands out every complete entry. A rotated
  // file is finished first when it can still be found under its name or in its directory.
  PollResult poll(const EntrySink& sink);

  // Persists the position after the entries handed out so far. Call it once they are safe (in
  // the spool): a crash before it re-reads them, a crash after it never does.
  std::error_code save_state() const;

  std::optional<FollowerState> state() const { return tracked_; }
  std::uint64_t malformed() const;

 private:
  bool start(const std::filesystem::path& path, bool at_end, PollResult& result);
  std::optional<std::filesystem::path> find_tracked() const;
  bool read_tracked(const std::filesystem::path& path, std::uint64_t& budget, const EntrySink& sink,
                    PollResult& result);
  void restart_reader(const EntrySink& sink);

  FollowerOptions options_;
  LogLocator locate_;
  std::unique_ptr<LogReader> reader_;
  std::optional<FollowerState> tracked_;
  std::uint64_t read_offset_ = 0;  // bytes of the tracked file fed to reader_
  std::uint64_t malformed_ = 0;    // of readers already replaced
  std::vector<char> buffer_;
};

}  // namespace pga::agent::log
