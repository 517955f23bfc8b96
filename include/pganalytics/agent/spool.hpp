// The agent's durable spool under state_dir/spool: push batches in append-only, CRC32C-checked
// segment files, fsync'ed before their seq counts as taken; bounded, crash-safe, seq never reused.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pga::agent {

struct SeqRange {
  std::uint64_t first;
  std::uint64_t last;  // inclusive
  bool operator==(const SeqRange&) const = default;
};

struct SpoolOptions {
  std::uint64_t max_bytes = 512ull << 20;  // disk budget: all segment files together
  // Capped at max_bytes / 16: the spool drops whole segments when full, so this bounds one drop.
  std::uint64_t segment_bytes = 8ull << 20;
};

struct SpooledBatch {
  std::uint64_t seq;
  std::string payload;
};

// bytes and batches describe the spool now; the other counters count since open().
struct SpoolStats {
  std::uint64_t bytes;            // segment files on disk, acknowledged records not yet deleted included
  std::uint64_t batches;          // spooled and not yet acknowledged
  std::uint64_t dropped_batches;  // given up because the spool was full
  std::uint64_t torn_records;     // interrupted appends cut off by open()
  std::uint64_t damaged_records;  // unacknowledged batches lost to corruption, reported as dropped
  std::uint64_t quarantined;      // refused by the server for good, kept in rejected/
};

// Adds `range` to sorted, disjoint `ranges`, merging overlapping and adjacent ranges.
void add_seq_range(std::vector<SeqRange>& ranges, SeqRange range);

// CRC32C (Castagnoli); pass a previous result as `crc` to continue over more bytes.
std::uint32_t crc32c(std::string_view data, std::uint32_t crc = 0);

namespace spool_disk {
struct State;

// An open file descriptor; every failing call throws std::system_error naming the file.
class File {
 public:
  File(std::filesystem::path path, int flags);
  File(File&& other) noexcept;
  File& operator=(File&&) = delete;
  ~File();
  std::uint64_t size() const;
  std::string read_at(std::uint64_t offset, std::size_t bytes) const;  // shorter only at end of file
  void write_at(std::uint64_t offset, std::string_view first, std::string_view second = {}) const;
  void truncate(std::uint64_t bytes) const;
  void sync() const;
  bool try_lock() const;  // an exclusive flock, held until the file is closed; false when taken

 private:
  [[noreturn]] void fail(const char* what) const;
  std::filesystem::path path_;
  int fd_;
};
}  // namespace spool_disk

// What a seq means here: it is taken when append() returns, i.e. once its record is fsync'ed.
// A crash can only tear the record being appended, whose append never returned: open() cuts it
// off and its seq is handed out again. (Storage corrupting the newest record after its fsync
// looks the same; anywhere else such damage is a lost record, reported as dropped.) Taken seqs
// are never reused: the state file keeps the acknowledgement position once segments are deleted,
// and a segment's name, the seq it was created for, proves every seq below it was taken.
//
// One Spool is used from one thread at a time: it has no locking. Across processes, open() holds
// an exclusive flock on <dir>/lock, so a second agent on the same state_dir fails to start.
class Spool {
 public:
  using BuildBatch = std::function<std::string(std::uint64_t seq, const std::vector<SeqRange>& dropped)>;

  // Opens or creates `dir`, cutting off a torn tail and skipping damaged records (each counted,
  // the lost seqs reported as dropped). Throws only when the files cannot be read or written,
  // or when the state file is damaged (a guess could reuse seqs the server already stored).
  static Spool open(const std::filesystem::path& dir, SpoolOptions options);

  // Calls build(seq, dropped) with the next seq and the dropped ranges not yet reported, stores
  // its result durably and returns seq. When the record does not fit in max_bytes the oldest
  // segments are dropped whole; their ranges go to the next build(). Throws std::length_error
  // for a payload over 64 MiB or a record over max_bytes (the seq is then not taken).
  std::uint64_t append(const BuildBatch& build);

  // The oldest batch not yet acknowledged, read from disk; nullopt when there is none.
  std::optional<SpooledBatch> oldest();

  // Forgets every batch up to and including `seq` (the sender delivers oldest first), durably.
  // A seq already forgotten (acknowledged or dropped meanwhile) is a no-op.
  void acknowledge(std::uint64_t seq);

  // Moves the oldest batch, which must be `seq`, to <state_dir>/rejected/<seq>.json with the
  // server's status and answer, then acknowledges it. A seq dropped meanwhile is a no-op.
  void quarantine(std::uint64_t seq, int status, const std::string& server_answer);

  SpoolStats stats() const;

 private:
  struct Segment {
    std::uint64_t first_seq;  // also its file name: the seq it was created for
    std::uint64_t bytes;
    std::uint64_t records;
  };

  Spool(std::filesystem::path dir, SpoolOptions options);
  void recover();
  std::filesystem::path segment_path(const Segment& segment) const;
  spool_disk::State current_state() const;
  void save_state(const spool_disk::State& state) const;
  void note_lost(const std::vector<SeqRange>& lost);
  void forget_below_head();
  void delete_front_segment();
  void repair_front();
  std::vector<SeqRange> make_room(std::uint64_t record_bytes, std::uint64_t seq);
  void write_record(std::uint64_t seq, std::string_view payload);

  std::filesystem::path dir_;
  spool_disk::File lock_;
  std::uint64_t max_bytes_;
  std::uint64_t segment_limit_;
  std::vector<Segment> segments_;      // oldest first
  std::uint64_t cursor_ = 0;           // offset in the front segment of the first record not forgotten
  std::uint64_t front_forgotten_ = 0;  // records before cursor_
  std::uint64_t head_ = 1;             // lowest seq neither acknowledged nor dropped
  std::uint64_t next_seq_ = 1;
  std::vector<SeqRange> unreported_;  // dropped or lost, not yet handed to a taken batch
  std::uint64_t dropped_batches_ = 0;
  std::uint64_t torn_records_ = 0;
  std::uint64_t damaged_records_ = 0;
  std::uint64_t quarantined_ = 0;
};

// The on-disk layer, shared by the Spool's translation units and their tests.
namespace spool_disk {

// A record: magic "PGA\x01" | payload length u32 | seq u64 | crc32c u32 | payload, little-endian;
// the CRC covers length, seq and payload. The magic holds a byte JSON text never contains, so a
// scan for the next record after damage does not stop inside a payload.
inline constexpr std::size_t kMagicBytes = 4;
inline constexpr std::size_t kHeaderBytes = 20;
inline constexpr std::uint32_t kMaxPayloadBytes = 64u << 20;  // CONTRACT §5's decompressed limit

struct RecordHeader {
  std::uint32_t length;
  std::uint64_t seq;
  std::uint32_t crc;
  std::uint32_t crc_seed() const;  // the CRC of the length and seq fields, to continue over the payload
  std::uint64_t record_bytes() const { return kHeaderBytes + length; }
};

std::string encode_header(std::uint64_t seq, std::string_view payload);
std::optional<RecordHeader> decode_header(std::string_view bytes);  // nullopt: no magic or impossible length
std::size_t find_magic(std::string_view bytes);                     // npos when absent

std::string segment_file_name(std::uint64_t first_seq);  // 20 digits + ".seg": names sort like seqs
std::optional<std::uint64_t> parse_segment_file_name(std::string_view name);

// The state file: written whole through temp + fsync + rename, checked by a CRC32C line.
struct State {
  std::uint64_t head = 1;
  std::uint64_t offered_to = 0;   // the seq whose build() was handed `offered`...
  std::vector<SeqRange> offered;  // ...so they count as reported once that seq is taken
  std::vector<SeqRange> unreported;
};
std::string format_state(const State& state);
std::optional<State> parse_state(std::string_view text);  // nullopt: damaged

// Makes creations, renames and deletions in `dir` durable.
void sync_directory(const std::filesystem::path& dir);

// The header at `offset` if it is plausible and its record ends by `end` (the CRC is not checked).
std::optional<RecordHeader> read_header(const File& file, std::uint64_t offset, std::uint64_t end);
// The record at `offset` if it is sound.
std::optional<SpooledBatch> read_record(const File& file, std::uint64_t offset, std::uint64_t end);

struct Extent {
  std::uint64_t offset;
  std::uint64_t bytes;
};

struct SegmentScan {
  std::vector<Extent> sound;   // byte ranges of consecutive sound records, in order
  std::vector<SeqRange> lost;  // seqs whose records were destroyed
  std::uint64_t records = 0;
  std::uint64_t sound_bytes = 0;
  std::uint64_t bad_bytes = 0;
  std::optional<std::uint64_t> last_seq;
  bool torn_tail = false;  // bad bytes after the last sound record, where an append was cut
};

// Checks every record of a segment, holding one header and a 64 KiB window in memory. Bad bytes
// are skipped up to the next sound record; the seqs between its sound neighbours are lost.
// Trailing bad bytes are lost up to `known_last` when given, else they are a torn tail.
SegmentScan scan_segment(const std::filesystem::path& file, std::uint64_t first_seq,
                         std::optional<std::uint64_t> known_last);
// Leaves only the sound extents in the file: truncates, rewrites through a temp file, or deletes.
void repair_segment(const std::filesystem::path& file, const std::vector<Extent>& sound);

}  // namespace spool_disk
}  // namespace pga::agent
