// The spool's file I/O: descriptors, durable writes, reading one record, and the segment scan
// that tells sound records from torn or damaged bytes, in bounded memory.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include "pganalytics/agent/spool.hpp"

namespace pga::agent::spool_disk {
namespace fs = std::filesystem;
namespace {

constexpr std::size_t kWindowBytes = 64 << 10;

// The CRC of the payload at `offset`, read a window at a time so huge records cost no memory.
std::uint32_t payload_crc(const File& file, std::uint64_t offset, std::uint32_t length, std::uint32_t crc) {
  for (std::uint64_t done = 0; done < length;) {
    const auto chunk = file.read_at(offset + done, std::min<std::uint64_t>(kWindowBytes, length - done));
    crc = crc32c(chunk, crc);
    done += chunk.size();
  }
  return crc;
}

// A sound record at `offset` whose seq follows `previous`, or nullopt.
std::optional<RecordHeader> sound_record_at(const File& file, std::uint64_t offset, std::uint64_t end,
                                            std::uint64_t previous) {
  auto header = read_header(file, offset, end);
  if (!header || header->seq <= previous) return std::nullopt;
  if (payload_crc(file, offset + kHeaderBytes, header->length, header->crc_seed()) != header->crc) return std::nullopt;
  return header;
}

// Where the next record could start at or after `from`; `end` when no magic is left.
std::uint64_t next_magic(const File& file, std::uint64_t from, std::uint64_t end) {
  while (from + kMagicBytes <= end) {
    const auto window = file.read_at(from, std::min<std::uint64_t>(kWindowBytes, end - from));
    if (auto at = find_magic(window); at != std::string::npos) return from + at;
    if (window.size() < kMagicBytes) break;
    // Keep the window's last bytes: a magic may straddle two windows.
    from += window.size() - (kMagicBytes - 1);
  }
  return end;
}

void add_sound(std::vector<Extent>& sound, std::uint64_t offset, std::uint64_t bytes) {
  if (!sound.empty() && sound.back().offset + sound.back().bytes == offset)
    sound.back().bytes += bytes;
  else
    sound.push_back({offset, bytes});
}

// Replaces `path` by its sound extents at once, so a crash leaves either the old or the new file.
void rewrite_through_temporary(const fs::path& path, const std::vector<Extent>& extents) {
  auto temporary = path;
  temporary += ".tmp";
  const File from(path, O_RDONLY);
  const File to(temporary, O_WRONLY | O_CREAT | O_TRUNC);
  std::uint64_t written = 0;
  for (const auto& extent : extents) {
    for (std::uint64_t done = 0; done < extent.bytes;) {
      const auto chunk = from.read_at(extent.offset + done, std::min<std::uint64_t>(kWindowBytes, extent.bytes - done));
      to.write_at(written, chunk);
      done += chunk.size();
      written += chunk.size();
    }
  }
  to.sync();
  fs::rename(temporary, path);
}

}  // namespace

File::File(fs::path path, int flags) : path_(std::move(path)), fd_(::open(path_.c_str(), flags | O_CLOEXEC, 0600)) {
  if (fd_ < 0) fail("open");
}

File::File(File&& other) noexcept : path_(std::move(other.path_)), fd_(other.fd_) { other.fd_ = -1; }

File::~File() {
  if (fd_ >= 0) ::close(fd_);
}

void File::fail(const char* what) const {
  throw std::system_error(errno, std::generic_category(), std::string("spool: cannot ") + what + " " + path_.string());
}

std::uint64_t File::size() const {
  struct stat st {};
  if (::fstat(fd_, &st) != 0) fail("stat");
  return static_cast<std::uint64_t>(st.st_size);
}

std::string File::read_at(std::uint64_t offset, std::size_t bytes) const {
  std::string out(bytes, '\0');
  std::size_t done = 0;
  while (done < bytes) {
    const auto n = ::pread(fd_, out.data() + done, bytes - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("read");
    if (n == 0) break;
    done += static_cast<std::size_t>(n);
  }
  out.resize(done);
  return out;
}

void File::write_at(std::uint64_t offset, std::string_view first, std::string_view second) const {
  for (auto part : {first, second}) {
    while (!part.empty()) {
      const auto n = ::pwrite(fd_, part.data(), part.size(), static_cast<off_t>(offset));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) fail("write");
      part.remove_prefix(static_cast<std::size_t>(n));
      offset += static_cast<std::uint64_t>(n);
    }
  }
}

void File::truncate(std::uint64_t bytes) const {
  if (::ftruncate(fd_, static_cast<off_t>(bytes)) != 0) fail("truncate");
}

void File::sync() const {
  if (::fsync(fd_) != 0) fail("fsync");
}

bool File::try_lock() const {
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return true;
  if (errno != EWOULDBLOCK) fail("lock");
  return false;
}

void sync_directory(const fs::path& dir) { File(dir, O_RDONLY | O_DIRECTORY).sync(); }

std::optional<RecordHeader> read_header(const File& file, std::uint64_t offset, std::uint64_t end) {
  if (offset > end || end - offset < kHeaderBytes) return std::nullopt;
  auto header = decode_header(file.read_at(offset, kHeaderBytes));
  if (!header || header->record_bytes() > end - offset) return std::nullopt;
  return header;
}

std::optional<SpooledBatch> read_record(const File& file, std::uint64_t offset, std::uint64_t end) {
  const auto header = read_header(file, offset, end);
  if (!header) return std::nullopt;
  auto payload = file.read_at(offset + kHeaderBytes, header->length);
  if (payload.size() != header->length || crc32c(payload, header->crc_seed()) != header->crc) return std::nullopt;
  return SpooledBatch{header->seq, std::move(payload)};
}

SegmentScan scan_segment(const fs::path& path, std::uint64_t first_seq, std::optional<std::uint64_t> known_last) {
  const File file(path, O_RDONLY);
  const auto end = file.size();
  SegmentScan scan;
  std::uint64_t previous = first_seq - 1;
  bool bad = false;  // bad bytes since the last sound record
  for (std::uint64_t offset = 0; offset < end;) {
    const auto header = sound_record_at(file, offset, end, previous);
    if (!header) {
      const auto next = next_magic(file, offset + 1, end);
      scan.bad_bytes += next - offset;
      offset = next;
      bad = true;
      continue;
    }
    if (bad && header->seq > previous + 1) scan.lost.push_back({previous + 1, header->seq - 1});
    bad = false;
    add_sound(scan.sound, offset, header->record_bytes());
    scan.sound_bytes += header->record_bytes();
    ++scan.records;
    previous = header->seq;
    scan.last_seq = previous;
    offset += header->record_bytes();
  }
  if (bad && !known_last) scan.torn_tail = true;
  if (bad && known_last && *known_last > previous) scan.lost.push_back({previous + 1, *known_last});
  return scan;
}

void repair_segment(const fs::path& path, const std::vector<Extent>& sound) {
  if (sound.size() == 1 && sound.front().offset == 0) {
    const File file(path, O_WRONLY);
    file.truncate(sound.front().bytes);
    file.sync();
    return;
  }
  if (sound.empty())
    fs::remove(path);
  else
    rewrite_through_temporary(path, sound);
  sync_directory(path.parent_path());
}

}  // namespace pga::agent::spool_disk
