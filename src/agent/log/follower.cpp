// The log follower: reads on from the saved position in bounded chunks, finishes a rotated file
// before the new one, starts over on truncation, and leaves unfinished entries for the next poll.
#include "pganalytics/agent/log/follower.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace pga::agent::log {
namespace {

namespace fs = std::filesystem;

constexpr std::uint64_t kHeadBytes = 256;

class Fd {
 public:
  explicit Fd(const fs::path& path) : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

FileId id_of(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

std::optional<FileId> id_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
  return id_of(st);
}

std::string failure(std::string_view what, const fs::path& path) {
  return std::string{what} + " " + path.string() + ": " + std::strerror(errno);
}

// Up to `size` bytes at `offset`; fewer only at the end of the file. -1 on error.
ssize_t read_at(int fd, char* into, std::size_t size, std::uint64_t offset) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t n = ::pread(fd, into + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  return static_cast<ssize_t>(done);
}

std::uint64_t fnv1a(const char* data, std::size_t size) {
  std::uint64_t hash = 14695981039346656037ULL;
  for (std::size_t i = 0; i < size; ++i) hash = (hash ^ static_cast<unsigned char>(data[i])) * 1099511628211ULL;
  return hash;
}

// The hash of the first `size` bytes, or nullopt when the file is now shorter.
std::optional<std::uint64_t> head_hash(int fd, std::uint64_t size) {
  char head[kHeadBytes];
  if (read_at(fd, head, size, 0) != static_cast<ssize_t>(size)) return std::nullopt;
  return fnv1a(head, size);
}

bool same_head(int fd, const FollowerState& state) {
  return state.head_size == 0 || head_hash(fd, state.head_size) == state.head_hash;
}

// The fingerprint grows with the file up to kHeadBytes.
void refresh_head(int fd, FollowerState& state) {
  char head[kHeadBytes];
  ssize_t n = read_at(fd, head, kHeadBytes, 0);
  if (n <= static_cast<ssize_t>(state.head_size)) return;
  state.head_size = static_cast<std::uint64_t>(n);
  state.head_hash = fnv1a(head, state.head_size);
}

}  // namespace

LogFollower::LogFollower(FollowerOptions options, LogLocator locate)
    : options_(std::move(options)), locate_(std::move(locate)), reader_(make_reader(options_.reader)),
      buffer_(std::max<std::size_t>(options_.chunk_bytes, 1)) {
  if (!options_.state_file.empty()) tracked_ = load_follower_state(options_.state_file);
  if (tracked_) read_offset_ = tracked_->offset;
}

LogFollower::~LogFollower() = default;

PollResult LogFollower::poll(const EntrySink& sink) {
  PollResult result;
  EntrySink counted = [&](LogEntry&& e) {
    ++result.entries;
    sink(std::move(e));
  };
  std::optional<fs::path> current = locate_();
  if (!tracked_ && (!current || !start(*current, options_.start_at_end, result))) {
    if (result.error.empty()) result.error = "no log file found";
    return result;
  }
  std::uint64_t budget = options_.max_bytes_per_poll;
  // At most: finish the old file, then read the current one.
  for (int hop = 0; hop < 2; ++hop) {
    std::optional<FileId> current_id = current ? id_of(*current) : std::nullopt;
    bool superseded = current_id && *current_id != tracked_->id;
    if (std::optional<fs::path> path = find_tracked()) {
      if (!read_tracked(*path, budget, counted, result)) return result;
      if (!superseded) break;
    } else if (!superseded) {
      result.error = "log file " + tracked_->path.string() + " is gone and no newer one was found";
      return result;
    }
    restart_reader(counted);
    if (!start(*current, false, result)) return result;
    result.rotated = true;
  }
  if (result.bytes_read == 0) {
    reader_->flush(counted);
    tracked_->offset = read_offset_ - reader_->unfinished_bytes();
  }
  return result;
}

std::error_code LogFollower::save_state() const {
  if (!tracked_ || options_.state_file.empty()) return {};
  return save_follower_state(options_.state_file, *tracked_);
}

std::uint64_t LogFollower::malformed() const { return malformed_ + reader_->malformed(); }

bool LogFollower::start(const fs::path& path, bool at_end, PollResult& result) {
  Fd fd(path);
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    result.error = failure("cannot open", path);
    return false;
  }
  std::uint64_t size = static_cast<std::uint64_t>(st.st_size);
  tracked_ = FollowerState{path, id_of(st), at_end ? size : 0, 0, 0};
  read_offset_ = tracked_->offset;
  refresh_head(fd.get(), *tracked_);
  return true;
}

// Under its last known name, or renamed within its directory (logrotate's postgresql.log.1).
std::optional<fs::path> LogFollower::find_tracked() const {
  if (id_of(tracked_->path) == tracked_->id) return tracked_->path;
  fs::path dir = tracked_->path.parent_path().empty() ? fs::path{"."} : tracked_->path.parent_path();
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (id_of(it->path()) == tracked_->id) return it->path();
  return std::nullopt;
}

// Reads on from read_offset_ within the budget; true once the end of the file was reached.
bool LogFollower::read_tracked(const fs::path& path, std::uint64_t& budget, const EntrySink& sink,
                               PollResult& result) {
  Fd fd(path);
  struct stat st {};
  if (fd.get() < 0 || ::fstat(fd.get(), &st) != 0) {
    result.error = failure("cannot open", path);
    return false;
  }
  tracked_->path = path;
  if (static_cast<std::uint64_t>(st.st_size) < read_offset_ || !same_head(fd.get(), *tracked_)) {
    result.truncated = true;
    restart_reader(sink);
    read_offset_ = tracked_->head_size = tracked_->head_hash = 0;
  }
  bool at_end = false;
  while (budget > 0 && !at_end) {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer_.size(), budget));
    ssize_t n = read_at(fd.get(), buffer_.data(), want, read_offset_);
    if (n < 0) {
      result.error = failure("cannot read", path);
      break;
    }
    at_end = static_cast<std::size_t>(n) < want;
    reader_->feed({buffer_.data(), static_cast<std::size_t>(n)}, sink);
    read_offset_ += static_cast<std::uint64_t>(n);
    budget -= static_cast<std::uint64_t>(n);
    result.bytes_read += static_cast<std::uint64_t>(n);
  }
  result.more = result.error.empty() && !at_end;
  refresh_head(fd.get(), *tracked_);
  tracked_->offset = read_offset_ - reader_->unfinished_bytes();
  return result.error.empty() && at_end;
}

void LogFollower::restart_reader(const EntrySink& sink) {
  reader_->flush(sink);
  malformed_ += reader_->malformed();
  reader_ = make_reader(options_.reader);
}

}  // namespace pga::agent::log
