// Opening the spool after any crash, and repairing a segment found damaged later: every record
// is CRC-checked, a torn tail is cut off, damaged records are skipped and reported as dropped.
#include <fcntl.h>
#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "pganalytics/agent/credentials.hpp"
#include "pganalytics/agent/spool.hpp"
#include "pganalytics/common/log.hpp"

namespace pga::agent {
namespace fs = std::filesystem;

namespace {

spool_disk::State load_state(const fs::path& file) {
  if (!fs::exists(file)) return {};
  if (auto state = spool_disk::parse_state(read_text_file(file))) return *state;
  // Guessing would reuse seqs the server already stored, and it would answer "duplicate" to
  // new batches: better a clear refusal than silent loss.
  throw std::runtime_error(fmt::format(
      "{} is damaged; remove it to start from the segments alone (a seq whose segment is already deleted may "
      "then be handed out again)",
      file.string()));
}

// The first seqs of the segment files, oldest first; temp files of an interrupted write go.
std::vector<std::uint64_t> list_segments(const fs::path& dir) {
  std::vector<std::uint64_t> seqs;
  for (const auto& entry : fs::directory_iterator(dir)) {
    const auto name = entry.path().filename().string();
    if (name.ends_with(".tmp"))
      fs::remove(entry.path());
    else if (auto seq = spool_disk::parse_segment_file_name(name))
      seqs.push_back(*seq);
  }
  std::sort(seqs.begin(), seqs.end());
  return seqs;
}

}  // namespace

Spool Spool::open(const fs::path& dir, SpoolOptions options) {
  Spool spool(dir, options);
  spool.recover();
  return spool;
}

// A segment named N was created by the append of N, so every seq below N was taken: the next seq
// is the largest of the head, one past every sound record, and the newest segment's name.
void Spool::recover() {
  const auto state = load_state(dir_ / "state");
  head_ = state.head;
  unreported_ = state.unreported;
  const auto firsts = list_segments(dir_);
  next_seq_ = std::max(head_, firsts.empty() ? 1 : firsts.back());

  std::vector<spool_disk::SegmentScan> scans;
  for (std::size_t i = 0; i < firsts.size(); ++i) {
    const auto known_last = i + 1 < firsts.size() ? std::optional(firsts[i + 1] - 1) : std::nullopt;
    auto scan = spool_disk::scan_segment(dir_ / spool_disk::segment_file_name(firsts[i]), firsts[i], known_last);
    if (scan.last_seq) next_seq_ = std::max(next_seq_, *scan.last_seq + 1);
    torn_records_ += scan.torn_tail ? 1 : 0;
    note_lost(scan.lost);
    scans.push_back(std::move(scan));
  }
  if (state.offered_to >= next_seq_)
    for (const auto& range : state.offered) add_seq_range(unreported_, range);
  // The lost ranges are saved before the damaged bytes go, so they are reported even after a crash.
  if (damaged_records_ > 0) save_state(current_state());

  for (std::size_t i = 0; i < firsts.size(); ++i) {
    const auto& scan = scans[i];
    const Segment segment{firsts[i], scan.sound_bytes, scan.records};
    if (scan.bad_bytes > 0)
      log::warn("spool: {} had {} bad bytes; kept {} sound records", segment_path(segment).string(), scan.bad_bytes,
                scan.records);
    if (scan.bad_bytes > 0 || scan.records == 0) spool_disk::repair_segment(segment_path(segment), scan.sound);
    if (segment.records > 0) segments_.push_back(segment);
  }
  forget_below_head();
}

// A record of the front segment became unreadable after open(): the same scan and repair as at
// open(), except that every seq up to the last taken one is known to have been stored.
void Spool::repair_front() {
  const auto& front = segments_.front();
  const auto path = segment_path(front);
  const auto known_last = segments_.size() > 1 ? segments_[1].first_seq - 1 : next_seq_ - 1;
  const auto scan = spool_disk::scan_segment(path, front.first_seq, known_last);
  if (scan.bad_bytes == 0)
    throw std::runtime_error(fmt::format("spool: {} reads differently from one read to the next", path.string()));
  log::warn("spool: {} was damaged; kept {} sound records", path.string(), scan.records);
  note_lost(scan.lost);
  save_state(current_state());
  spool_disk::repair_segment(path, scan.sound);
  segments_.front() = Segment{front.first_seq, scan.sound_bytes, scan.records};
  cursor_ = 0;
  front_forgotten_ = 0;
  if (scan.records == 0) segments_.erase(segments_.begin());
}

}  // namespace pga::agent
