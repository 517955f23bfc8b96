// The spool on real files: order and seq numbering across reopen, rotation and deletion, the
// full spool, quarantine, and recovery from torn tails and damaged records at every byte offset.
#include "temp_dir.hpp"
#include <doctest/doctest.h>
#include <fmt/format.h>
#include <stdlib.h>

#include <boost/json.hpp>
#include <fstream>
#include <map>
#include <set>

#include "pganalytics/agent/spool.hpp"

using namespace pga::agent;
namespace fs = std::filesystem;

namespace {

using pga::test::TempDir;

constexpr std::size_t kPad = 8;

// Fixed width, so every record of a test has the same size.
std::string payload_for(std::uint64_t seq, std::size_t pad = kPad) {
  return fmt::format(R"({{"seq":{:6},"pad":"{}"}})", seq, std::string(pad, 'x'));
}
std::uint64_t record_size(std::size_t pad = kPad) { return spool_disk::kHeaderBytes + payload_for(1, pad).size(); }

std::uint64_t append(Spool& spool, std::vector<SeqRange>* dropped = nullptr) {
  return spool.append([&](std::uint64_t seq, const std::vector<SeqRange>& ranges) {
    if (dropped) *dropped = ranges;
    return payload_for(seq);
  });
}

// Acknowledges everything, oldest first, checking each payload is its own batch's.
std::vector<std::uint64_t> drain(Spool& spool) {
  std::vector<std::uint64_t> seqs;
  while (auto batch = spool.oldest()) {
    CHECK(batch->payload.starts_with(fmt::format(R"({{"seq":{:6},)", batch->seq)));
    seqs.push_back(batch->seq);
    spool.acknowledge(batch->seq);
  }
  return seqs;
}

std::vector<std::string> segment_files(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.path().extension() == ".seg") names.insert(entry.path().filename().string());
  return {names.begin(), names.end()};
}

void flip_byte(const fs::path& file, std::uint64_t offset) {
  std::fstream stream(file, std::ios::in | std::ios::out | std::ios::binary);
  stream.seekg(static_cast<std::streamoff>(offset));
  const auto byte = static_cast<char>(stream.get() ^ 0x5A);
  stream.seekp(static_cast<std::streamoff>(offset));
  stream.put(byte);
}

using Seqs = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("spool: append, oldest and acknowledge keep order; seqs count from 1") {
  TempDir dir;
  auto spool = Spool::open((dir.path / "spool"), {});
  CHECK_FALSE(spool.oldest());
  CHECK(append(spool) == 1);
  CHECK(append(spool) == 2);
  CHECK(append(spool) == 3);
  CHECK(spool.oldest()->seq == 1);
  CHECK(spool.oldest()->payload == payload_for(1));  // oldest() reads, it does not take
  spool.acknowledge(1);
  CHECK(spool.stats().batches == 2);
  CHECK(spool.stats().bytes == 3 * record_size());
  CHECK(drain(spool) == Seqs{2, 3});
  CHECK(spool.stats().batches == 0);
  spool.acknowledge(2);  // already forgotten: a no-op
  CHECK_THROWS_AS(spool.acknowledge(4), std::invalid_argument);
  CHECK_THROWS_AS(Spool::open((dir.path / "spool"), {}), std::runtime_error);  // one user at a time
}

TEST_CASE("spool: seq and acknowledgements survive reopen, also once every segment is deleted") {
  TempDir dir;
  {
    auto spool = Spool::open((dir.path / "spool"), {});
    for (int i = 0; i < 3; ++i) append(spool);
    spool.acknowledge(1);
  }
  {
    auto spool = Spool::open((dir.path / "spool"), {});
    CHECK(spool.oldest()->seq == 2);
    CHECK(append(spool) == 4);
    CHECK(drain(spool) == Seqs{2, 3, 4});
    CHECK(segment_files((dir.path / "spool")).empty());
  }
  auto spool = Spool::open((dir.path / "spool"), {});
  CHECK_FALSE(spool.oldest());
  CHECK(append(spool) == 5);
}

TEST_CASE("spool: segments rotate at segment_bytes and go once fully acknowledged") {
  TempDir dir;
  auto spool = Spool::open((dir.path / "spool"), {512ull << 20, 2 * record_size() + 1});
  for (int i = 0; i < 7; ++i) append(spool);
  using Names = std::vector<std::string>;
  const Names all{"00000000000000000001.seg", "00000000000000000003.seg", "00000000000000000005.seg",
                  "00000000000000000007.seg"};
  CHECK(segment_files((dir.path / "spool")) == all);
  spool.acknowledge(1);
  CHECK(segment_files((dir.path / "spool")) == all);  // its segment still holds batch 2
  spool.acknowledge(2);
  CHECK(segment_files((dir.path / "spool")) == Names(all.begin() + 1, all.end()));
  spool.acknowledge(6);  // cumulative
  CHECK(segment_files((dir.path / "spool")) == Names{all.back()});
  CHECK(spool.stats().bytes == record_size());
  spool.acknowledge(7);
  CHECK(segment_files((dir.path / "spool")).empty());
  CHECK(spool.stats().bytes == 0);
  CHECK(append(spool) == 8);
  CHECK(segment_files((dir.path / "spool")) == Names{"00000000000000000008.seg"});
}

TEST_CASE("spool: when full, the oldest batches go whole and each range is reported exactly once") {
  TempDir dir;
  const SpoolOptions options{24 * record_size(), 1 << 20};  // segments of one record: max_bytes / 16
  std::map<std::uint64_t, std::vector<SeqRange>> reports;
  auto build = [&](std::uint64_t seq, const std::vector<SeqRange>& dropped, std::size_t pad) {
    reports[seq] = dropped;
    return payload_for(seq, pad);
  };
  {
    auto spool = Spool::open((dir.path / "spool"), options);
    for (std::uint64_t i = 1; i <= 60; ++i) {
      // Every tenth batch is larger, so that one append drops several batches at once.
      spool.append([&](auto seq, const auto& dropped) { return build(seq, dropped, i % 10 ? kPad : 400); });
      CHECK(spool.stats().bytes <= options.max_bytes);
    }
    CHECK(spool.stats().dropped_batches > 0);
    CHECK(spool.stats().dropped_batches + spool.stats().batches == 60);
    CHECK_THROWS_AS(spool.append([&](auto seq, const auto& dropped) { return build(seq, dropped, 4000); }),
                    std::length_error);
  }
  // Ranges not reported yet survive a restart too.
  auto spool = Spool::open((dir.path / "spool"), options);
  auto delivered = drain(spool);
  CHECK(spool.append([&](auto seq, const auto& dropped) { return build(seq, dropped, kPad); }) == 61);
  delivered.push_back(61);
  CHECK(drain(spool) == Seqs{61});

  std::multiset<std::uint64_t> seen(delivered.begin(), delivered.end());
  std::uint64_t highest_dropped = 0;
  for (const auto& [seq, ranges] : reports) {
    CAPTURE(seq);
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      CHECK(ranges[i].last < seq);
      if (i > 0) CHECK(ranges[i - 1].last + 1 < ranges[i].first);  // merged: neither touching nor overlapping
      for (auto s = ranges[i].first; s <= ranges[i].last; ++s) seen.insert(s);
      highest_dropped = std::max(highest_dropped, ranges[i].last);
    }
  }
  CHECK(highest_dropped < delivered.front());  // the oldest went, not the newest
  for (std::uint64_t s = 1; s <= 61; ++s) CHECK_MESSAGE(seen.count(s) == 1, "seq ", s);
  CHECK(seen.size() == 61);
}

TEST_CASE("spool: a dropped range is reported once, whenever the agent restarts") {
  TempDir dir;
  const SpoolOptions options{4 * record_size(), 1 << 20};  // four batches, one per segment
  std::vector<SeqRange> dropped;
  {
    auto spool = Spool::open((dir.path / "spool"), options);
    for (int i = 0; i < 5; ++i) append(spool, &dropped);
    CHECK(dropped.empty());  // batch 1 went during the fifth append, after its build()
    CHECK(spool.stats().dropped_batches == 1);
  }
  {
    auto spool = Spool::open((dir.path / "spool"), options);
    CHECK(drain(spool) == Seqs{2, 3, 4, 5});
    CHECK(append(spool, &dropped) == 6);
    CHECK(dropped == std::vector<SeqRange>{{1, 1}});
  }
  auto spool = Spool::open((dir.path / "spool"), options);
  CHECK(append(spool, &dropped) == 7);
  CHECK(dropped.empty());
}

TEST_CASE("spool: ranges handed to an append cut by a crash are handed out again, merged") {
  TempDir dir;
  const SpoolOptions options{4 * record_size(), 1 << 20};  // four batches, one per segment
  std::vector<SeqRange> dropped;
  {
    auto spool = Spool::open((dir.path / "spool"), options);
    for (int i = 0; i < 5; ++i) append(spool);  // the fifth drops batch 1
    CHECK(append(spool, &dropped) == 6);        // reports 1, drops 2
    CHECK(dropped == std::vector<SeqRange>{{1, 1}});
  }
  fs::resize_file((dir.path / "spool") / "00000000000000000006.seg", 10);  // as if killed inside append(6)
  auto spool = Spool::open((dir.path / "spool"), options);
  CHECK(spool.stats().torn_records == 1);
  CHECK(append(spool, &dropped) == 6);
  CHECK(dropped == std::vector<SeqRange>{{1, 2}});
}

TEST_CASE("spool: quarantine keeps the batch and the server's answer in rejected/ and forgets it") {
  TempDir dir;
  auto spool = Spool::open((dir.path / "spool"), {});
  for (int i = 0; i < 3; ++i) append(spool);
  CHECK_THROWS_AS(spool.quarantine(2, 400, "{}"), std::invalid_argument);  // not the oldest
  spool.quarantine(1, 400, R"({"error":{"code":"unknown_family","message":"no family x"}})");
  spool.quarantine(2, 422, "not JSON");
  spool.quarantine(1, 400, "{}");  // already gone: a no-op
  CHECK(spool.oldest()->seq == 3);
  CHECK(spool.stats().quarantined == 2);
  CHECK(spool.stats().batches == 1);

  auto read_json = [&](const char* name) {
    std::ifstream in(dir.path / "rejected" / name);
    return boost::json::parse(std::string(std::istreambuf_iterator<char>(in), {})).as_object();
  };
  const auto first = read_json("1.json");
  CHECK(first.at("seq").as_int64() == 1);
  CHECK(first.at("status").as_int64() == 400);
  CHECK(first.at("answer").at("error").at("code").as_string() == "unknown_family");
  CHECK(first.at("batch").at("seq").as_int64() == 1);
  CHECK(first.at("batch").at("pad").as_string() == std::string(kPad, 'x'));
  const auto second = read_json("2.json");
  CHECK(second.at("status").as_int64() == 422);
  CHECK(second.at("answer").as_string() == "not JSON");
  CHECK_FALSE(fs::exists(dir.path / "rejected" / "3.json"));
}

// Batches 1..count in a spool built once; each variation works on a copy, sparing fsyncs.
struct Original {
  TempDir dir;
  Original(const SpoolOptions& options, int count, std::uint64_t acknowledged = 0) {
    auto spool = Spool::open((dir.path / "spool"), options);
    for (int i = 0; i < count; ++i) append(spool);
    if (acknowledged > 0) spool.acknowledge(acknowledged);
  }
  void copy_to(const TempDir& target) const { fs::copy((dir.path / "spool"), (target.path / "spool"), fs::copy_options::recursive); }
};

// Cuts batch 3's record at every byte offset, as a crash during its append would.
void check_torn_tail(const SpoolOptions& options, const char* last_segment, std::uint64_t start) {
  const Original original(options, 3, 1);
  for (auto cut = start; cut < start + record_size(); ++cut) {
    CAPTURE(cut);
    TempDir dir;
    original.copy_to(dir);
    fs::resize_file((dir.path / "spool") / last_segment, cut);
    auto spool = Spool::open((dir.path / "spool"), options);
    CHECK(spool.stats().torn_records == (cut > start ? 1 : 0));
    CHECK(spool.stats().damaged_records == 0);
    CHECK(spool.stats().batches == 1);
    CHECK(spool.oldest()->payload == payload_for(2));
    // Batch 3's append never returned, so 3 was never taken and is handed out again.
    std::vector<SeqRange> dropped{{99, 99}};
    CHECK(append(spool, &dropped) == 3);
    CHECK(dropped.empty());
  }
}

TEST_CASE("spool: a torn tail at any byte is cut off and counted; complete records stay") {
  SUBCASE("inside a segment") { check_torn_tail({}, "00000000000000000001.seg", 2 * record_size()); }
  SUBCASE("the first record of a new segment") {
    check_torn_tail({512ull << 20, 2 * record_size()}, "00000000000000000003.seg", 0);
  }
  SUBCASE("and what was appended after the cut is read back") {
    const Original original({}, 3);
    TempDir dir;
    original.copy_to(dir);
    fs::resize_file((dir.path / "spool") / "00000000000000000001.seg", 2 * record_size() + 7);
    {
      auto spool = Spool::open((dir.path / "spool"), {});
      CHECK(append(spool) == 3);
      CHECK(append(spool) == 4);
    }
    auto spool = Spool::open((dir.path / "spool"), {});
    CHECK(spool.stats().torn_records == 0);
    CHECK(drain(spool) == Seqs{1, 2, 3, 4});
  }
}

// Damages batch 3's record (3 of 5) at the first and last byte of each header field and in the
// payload, then checks that 3 alone is lost, and reported.
void check_damaged_middle(const SpoolOptions& options, const char* segment, std::uint64_t record_offset) {
  const Original original(options, 5);
  for (std::uint64_t i : {0, 3, 4, 7, 8, 15, 16, 19, 20, 30}) {
    CAPTURE(i);
    TempDir dir;
    original.copy_to(dir);
    flip_byte((dir.path / "spool") / segment, record_offset + i);
    auto spool = Spool::open((dir.path / "spool"), options);
    CHECK(spool.stats().damaged_records == 1);
    CHECK(spool.stats().torn_records == 0);
    CHECK(spool.stats().batches == 4);
    spool.acknowledge(2);
    CHECK(spool.oldest()->payload == payload_for(4));
    std::vector<SeqRange> dropped;
    CHECK(append(spool, &dropped) == 6);
    CHECK(dropped == std::vector<SeqRange>{{3, 3}});
  }
}

TEST_CASE("spool: a damaged record in the middle is skipped, counted and reported as dropped") {
  SUBCASE("inside a segment") { check_damaged_middle({}, "00000000000000000001.seg", 2 * record_size()); }
  SUBCASE("at the end of a segment") {
    check_damaged_middle({512ull << 20, 3 * record_size()}, "00000000000000000001.seg", 2 * record_size());
  }
  SUBCASE("alone in its segment") {
    check_damaged_middle({512ull << 20, record_size()}, "00000000000000000003.seg", 0);
  }
  SUBCASE("repaired once: the loss is reported once, across restarts") {
    const Original original({}, 5);
    TempDir dir;
    original.copy_to(dir);
    flip_byte((dir.path / "spool") / "00000000000000000001.seg", 2 * record_size() + 30);
    {
      auto spool = Spool::open((dir.path / "spool"), {});
      CHECK(drain(spool) == Seqs{1, 2, 4, 5});
    }
    auto spool = Spool::open((dir.path / "spool"), {});
    CHECK(spool.stats().damaged_records == 0);
    std::vector<SeqRange> dropped;
    CHECK(append(spool, &dropped) == 6);
    CHECK(dropped == std::vector<SeqRange>{{3, 3}});
    CHECK(append(spool, &dropped) == 7);
    CHECK(dropped.empty());
  }
}

TEST_CASE("spool: a record damaged while open is skipped and reported too") {
  TempDir dir;
  auto spool = Spool::open((dir.path / "spool"), {});
  for (int n = 0; n < 4; ++n) append(spool);
  flip_byte((dir.path / "spool") / "00000000000000000001.seg", 2 * record_size() + 30);
  spool.acknowledge(1);
  CHECK(spool.oldest()->seq == 2);
  spool.acknowledge(2);
  CHECK(spool.oldest()->seq == 4);
  CHECK(spool.stats().damaged_records == 1);
  std::vector<SeqRange> dropped;
  CHECK(append(spool, &dropped) == 5);
  CHECK(dropped == std::vector<SeqRange>{{3, 3}});
}

TEST_CASE("spool: a damaged state file stops open() instead of guessing seqs") {
  TempDir dir;
  {
    auto spool = Spool::open((dir.path / "spool"), {});
    append(spool);
    spool.acknowledge(1);
  }
  flip_byte((dir.path / "spool") / "state", 30);
  CHECK_THROWS_AS(Spool::open((dir.path / "spool"), {}), std::runtime_error);
}
