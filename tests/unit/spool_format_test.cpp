// The spool's byte formats without any file: CRC32C against its check value, record headers,
// segment names, the state file and its damage detection, and seq range merging.
#include <doctest/doctest.h>

#include "pganalytics/agent/spool.hpp"

using namespace pga::agent;
using namespace pga::agent::spool_disk;

TEST_CASE("spool crc32c: the Castagnoli check value, and continuing over split input") {
  CHECK(crc32c("123456789") == 0xE3069283u);
  CHECK(crc32c("") == 0u);
  CHECK(crc32c("56789", crc32c("1234")) == 0xE3069283u);
  CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeroes
}

TEST_CASE("spool seq ranges: sorted, disjoint, touching ranges merged") {
  std::vector<SeqRange> ranges;
  add_seq_range(ranges, {10, 12});
  add_seq_range(ranges, {1, 2});
  CHECK(ranges == std::vector<SeqRange>{{1, 2}, {10, 12}});
  add_seq_range(ranges, {5, 5});
  CHECK(ranges == std::vector<SeqRange>{{1, 2}, {5, 5}, {10, 12}});
  add_seq_range(ranges, {3, 4});  // touches both neighbours
  CHECK(ranges == std::vector<SeqRange>{{1, 5}, {10, 12}});
  add_seq_range(ranges, {4, 11});  // overlaps both
  CHECK(ranges == std::vector<SeqRange>{{1, 12}});
  add_seq_range(ranges, {2, 3});  // already inside
  CHECK(ranges == std::vector<SeqRange>{{1, 12}});
}

TEST_CASE("spool record header: round trip, and what is not a header") {
  const std::string payload = R"({"seq":42})";
  const auto bytes = encode_header(42, payload);
  REQUIRE(bytes.size() == kHeaderBytes);
  const auto header = decode_header(bytes);
  REQUIRE(header);
  CHECK(header->seq == 42);
  CHECK(header->length == payload.size());
  CHECK(header->record_bytes() == kHeaderBytes + payload.size());
  CHECK(crc32c(payload, header->crc_seed()) == header->crc);
  CHECK(crc32c(payload + " ", header->crc_seed()) != header->crc);

  auto no_magic = bytes;
  no_magic[1] = 'X';
  CHECK_FALSE(decode_header(no_magic));
  auto too_long = bytes;
  too_long[7] = '\x7F';  // length's top byte: far beyond the 64 MiB limit
  CHECK_FALSE(decode_header(too_long));
  CHECK_FALSE(decode_header(bytes.substr(0, kHeaderBytes - 1)));
  CHECK_FALSE(decode_header(encode_header(0, payload)));  // seq 0 is never handed out
}

TEST_CASE("spool record magic: found after damage, never inside JSON text") {
  const auto record = encode_header(7, "{}") + "{}";
  CHECK(find_magic("garbage" + record) == 7);
  CHECK(find_magic(R"({"a":"PGA","b":"PGA\u0001"})") == std::string::npos);
}

TEST_CASE("spool segment names sort like their seqs and nothing else parses as one") {
  CHECK(segment_file_name(42) == "00000000000000000042.seg");
  CHECK(segment_file_name(9) < segment_file_name(10));
  CHECK(parse_segment_file_name(segment_file_name(18446744073709551615ull)) == 18446744073709551615ull);
  CHECK_FALSE(parse_segment_file_name("00000000000000000000.seg"));
  CHECK_FALSE(parse_segment_file_name("00000000000000000042.seg.tmp"));
  CHECK_FALSE(parse_segment_file_name("0000000000000000004x.seg"));
  CHECK_FALSE(parse_segment_file_name("42.seg"));
  CHECK_FALSE(parse_segment_file_name("state"));
}

TEST_CASE("spool state file: round trip, and any damage is detected") {
  const State state{17, 15, {{3, 4}}, {{9, 9}, {11, 14}}};
  const auto text = format_state(state);
  const auto parsed = parse_state(text);
  REQUIRE(parsed);
  CHECK(parsed->head == 17);
  CHECK(parsed->offered_to == 15);
  CHECK(parsed->offered == state.offered);
  CHECK(parsed->unreported == state.unreported);

  const auto empty = parse_state(format_state(State{}));
  REQUIRE(empty);
  CHECK(empty->head == 1);
  CHECK(empty->offered.empty());

  for (std::size_t i = 0; i < text.size(); ++i) {
    auto damaged = text;
    damaged[i] = static_cast<char>(damaged[i] ^ 0x04);
    CAPTURE(i);
    CHECK_FALSE(parse_state(damaged));
  }
  CHECK_FALSE(parse_state(text.substr(0, text.size() - 1)));
  CHECK_FALSE(parse_state(""));
}
