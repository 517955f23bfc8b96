// The spool at work: append (with drops when full), oldest, acknowledge and quarantine. Every
// change reaches the disk, fsync'ed, before the call returns; recovery lives in spool_recovery.cpp.
#include "pganalytics/agent/spool.hpp"

#include <fcntl.h>
#include <fmt/format.h>

#include <boost/json.hpp>
#include <stdexcept>

#include "pganalytics/agent/credentials.hpp"
#include "pganalytics/common/log.hpp"

namespace pga::agent {
namespace fs = std::filesystem;
using spool_disk::File;

namespace {

// The rejected batch with the server's answer, kept as JSON when it is JSON.
std::string rejected_document(const SpooledBatch& batch, int status, const std::string& answer) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(answer, ec);
  const auto answer_json = boost::json::serialize(ec ? boost::json::value(answer) : parsed);
  return fmt::format("{{\"seq\":{},\"status\":{},\"answer\":{},\"batch\":{}}}\n", batch.seq, status, answer_json,
                     batch.payload);
}

// Creates the directory; without a trailing slash, since parent_path() must be state_dir.
fs::path prepare_directory(const fs::path& dir) {
  auto normal = dir.lexically_normal();
  if (!normal.has_filename()) normal = normal.parent_path();
  fs::create_directories(normal);
  return normal;
}

File lock_directory(const fs::path& dir) {
  File lock(dir / "lock", O_RDWR | O_CREAT);
  if (!lock.try_lock()) throw std::runtime_error(fmt::format("spool: {} is in use by another process", dir.string()));
  return lock;
}

}  // namespace

Spool::Spool(fs::path dir, SpoolOptions options)
    : dir_(prepare_directory(dir)),
      lock_(lock_directory(dir_)),
      max_bytes_(options.max_bytes),
      segment_limit_(std::min(options.segment_bytes, options.max_bytes / 16)) {}

fs::path Spool::segment_path(const Segment& segment) const {
  return dir_ / spool_disk::segment_file_name(segment.first_seq);
}

spool_disk::State Spool::current_state() const { return {head_, 0, {}, unreported_}; }

void Spool::save_state(const spool_disk::State& state) const {
  write_file_atomically(dir_ / "state", spool_disk::format_state(state),
                        fs::perms::owner_read | fs::perms::owner_write);
  spool_disk::sync_directory(dir_);
}

void Spool::note_lost(const std::vector<SeqRange>& lost) {
  for (auto range : lost) {
    range.first = std::max(range.first, head_);
    if (range.first > range.last) continue;
    damaged_records_ += range.last - range.first + 1;
    add_seq_range(unreported_, range);
  }
}

// Never throws: the state file already puts the segment below head, and a file that stays
// behind is deleted by the next open(), so a failure here must not undo a durable change.
void Spool::delete_front_segment() {
  std::error_code ec;
  if (fs::remove(segment_path(segments_.front()), ec); ec)
    log::warn("spool: cannot delete {}: {}", segment_path(segments_.front()).string(), ec.message());
  segments_.erase(segments_.begin());
  cursor_ = 0;
  front_forgotten_ = 0;
}

// Moves the cursor to the first record at or above head, deleting segments left behind.
void Spool::forget_below_head() {
  while (!segments_.empty()) {
    const auto& front = segments_.front();
    if (cursor_ >= front.bytes || (segments_.size() > 1 && segments_[1].first_seq <= head_)) {
      delete_front_segment();
      continue;
    }
    const auto header = spool_disk::read_header(File(segment_path(front), O_RDONLY), cursor_, front.bytes);
    if (!header) {
      repair_front();
      continue;
    }
    if (header->seq >= head_) return;
    cursor_ += header->record_bytes();
    ++front_forgotten_;
  }
}

// Drops the oldest segments until a record of `record_bytes` fits and returns their seq ranges.
// The new head, these ranges and the ranges handed to `seq`'s build() are saved before any file
// goes, so a crash at any point neither loses nor repeats a report.
std::vector<SeqRange> Spool::make_room(std::uint64_t record_bytes, std::uint64_t seq) {
  std::uint64_t bytes = stats().bytes;
  std::size_t count = 0;
  std::uint64_t records = 0;
  for (; count < segments_.size() && bytes + record_bytes > max_bytes_; ++count) {
    bytes -= segments_[count].bytes;
    records += segments_[count].records;
  }
  std::vector<SeqRange> dropped;
  auto head = head_;
  if (count > 0) {
    const auto end = count < segments_.size() ? segments_[count].first_seq - 1 : next_seq_ - 1;
    if (head <= end) dropped.push_back({head, end});
    head = std::max(head, end + 1);
    records -= front_forgotten_;
  }
  if (!unreported_.empty() || !dropped.empty()) save_state({head, seq, unreported_, dropped});
  head_ = head;
  dropped_batches_ += records;
  for (std::size_t i = 0; i < count; ++i) delete_front_segment();
  return dropped;
}

void Spool::write_record(std::uint64_t seq, std::string_view payload) {
  const auto header = spool_disk::encode_header(seq, payload);
  const auto record_bytes = header.size() + payload.size();
  const bool fresh = segments_.empty() || segments_.back().bytes + record_bytes > segment_limit_;
  if (fresh) segments_.push_back({seq, 0, 0});
  auto& segment = segments_.back();
  try {
    // A file already named `seq` can only be what a failed append of this same seq left.
    const File file(segment_path(segment), O_WRONLY | O_CREAT | (fresh ? O_TRUNC : 0));
    file.write_at(segment.bytes, header, payload);
    file.sync();
    if (fresh) spool_disk::sync_directory(dir_);
  } catch (...) {
    // Best effort: what stays behind is cut off as a torn tail by the next open().
    std::error_code ignored;
    if (fresh) {
      fs::remove(segment_path(segment), ignored);
      segments_.pop_back();
    } else {
      fs::resize_file(segment_path(segment), segment.bytes, ignored);
    }
    throw;
  }
  segment.bytes += record_bytes;
  ++segment.records;
}

std::uint64_t Spool::append(const BuildBatch& build) {
  const auto seq = next_seq_;
  const auto payload = build(seq, unreported_);
  const auto record_bytes = spool_disk::kHeaderBytes + payload.size();
  if (payload.size() > spool_disk::kMaxPayloadBytes || record_bytes > max_bytes_)
    throw std::length_error(fmt::format("spool: batch {} is {} bytes, more than the spool takes", seq, record_bytes));
  auto dropped = make_room(record_bytes, seq);
  try {
    write_record(seq, payload);
  } catch (...) {
    for (const auto& range : dropped) add_seq_range(unreported_, range);
    throw;
  }
  unreported_ = std::move(dropped);
  next_seq_ = seq + 1;
  return seq;
}

std::optional<SpooledBatch> Spool::oldest() {
  for (;;) {
    forget_below_head();
    if (segments_.empty()) return std::nullopt;
    const auto& front = segments_.front();
    if (auto batch = spool_disk::read_record(File(segment_path(front), O_RDONLY), cursor_, front.bytes)) return batch;
    repair_front();
  }
}

void Spool::acknowledge(std::uint64_t seq) {
  if (seq >= next_seq_) throw std::invalid_argument(fmt::format("spool: batch {} was never appended", seq));
  if (seq < head_) return;
  auto state = current_state();
  state.head = seq + 1;
  save_state(state);
  head_ = state.head;
  forget_below_head();
}

void Spool::quarantine(std::uint64_t seq, int status, const std::string& server_answer) {
  const auto batch = oldest();
  if (!batch || batch->seq != seq) {
    if (seq < head_) return;
    throw std::invalid_argument(fmt::format("spool: batch {} is not the oldest spooled batch", seq));
  }
  const auto rejected = dir_.parent_path() / "rejected";
  fs::create_directories(rejected);
  write_file_atomically(rejected / fmt::format("{}.json", seq), rejected_document(*batch, status, server_answer),
                        fs::perms::owner_read | fs::perms::owner_write);
  spool_disk::sync_directory(rejected);
  ++quarantined_;
  acknowledge(seq);
}

SpoolStats Spool::stats() const {
  SpoolStats stats{0, 0, dropped_batches_, torn_records_, damaged_records_, quarantined_};
  for (const auto& segment : segments_) {
    stats.bytes += segment.bytes;
    stats.batches += segment.records;
  }
  stats.batches -= front_forgotten_;
  return stats;
}

}  // namespace pga::agent
