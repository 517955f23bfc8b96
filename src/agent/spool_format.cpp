// The spool's byte formats, free of I/O: CRC32C, record headers, segment names, the state file
// and seq range merging. Everything here is a pure function, unit-tested on strings.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <charconv>

#include "pganalytics/agent/spool.hpp"

namespace pga::agent {
namespace {

constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
  std::array<std::uint32_t, 256> table{};
  for (std::uint32_t i = 0; i < 256; ++i) {
    std::uint32_t crc = i;
    for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    table[i] = crc;
  }
  return table;
}
constexpr auto kCrc32cTable = make_crc32c_table();

}  // namespace

std::uint32_t crc32c(std::string_view data, std::uint32_t crc) {
  crc = ~crc;
  for (unsigned char byte : data) crc = kCrc32cTable[(crc ^ byte) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

void add_seq_range(std::vector<SeqRange>& ranges, SeqRange range) {
  auto it = std::lower_bound(ranges.begin(), ranges.end(), range,
                             [](const SeqRange& a, const SeqRange& b) { return a.first < b.first; });
  it = ranges.insert(it, range);
  // Fold into the predecessor when they touch, then swallow successors that touch.
  if (it != ranges.begin() && std::prev(it)->last + 1 >= it->first) {
    std::prev(it)->last = std::max(std::prev(it)->last, it->last);
    it = std::prev(ranges.erase(it));
  }
  auto next = std::next(it);
  while (next != ranges.end() && it->last + 1 >= next->first) {
    it->last = std::max(it->last, next->last);
    next = ranges.erase(next);
  }
}

namespace spool_disk {
namespace {

constexpr std::string_view kMagic{"PGA\x01", kMagicBytes};

template <typename T>
void put_le(std::string& out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

template <typename T>
T get_le(std::string_view bytes, std::size_t offset) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i)
    value |= static_cast<T>(static_cast<unsigned char>(bytes[offset + i])) << (8 * i);
  return value;
}

std::string length_and_seq(std::uint32_t length, std::uint64_t seq) {
  std::string bytes;
  put_le(bytes, length);
  put_le(bytes, seq);
  return bytes;
}

bool parse_number(std::string_view text, std::uint64_t& value) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && end == text.data() + text.size();
}

std::string format_ranges(std::string_view key, const std::vector<SeqRange>& ranges) {
  std::string line(key);
  for (const auto& r : ranges) line += fmt::format(" {}-{}", r.first, r.last);
  return line + "\n";
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0; start <= text.size();) {
    auto end = std::min(text.find(separator, start), text.size());
    parts.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool parse_ranges(const std::vector<std::string_view>& words, std::vector<SeqRange>& ranges) {
  for (std::size_t i = 1; i < words.size(); ++i) {
    auto dash = words[i].find('-');
    SeqRange r{};
    if (dash == std::string_view::npos || !parse_number(words[i].substr(0, dash), r.first) ||
        !parse_number(words[i].substr(dash + 1), r.last) || r.first > r.last)
      return false;
    add_seq_range(ranges, r);
  }
  return true;
}

bool parse_state_line(std::string_view line, State& state) {
  const auto words = split(line, ' ');
  if (words[0] == "offered") return parse_ranges(words, state.offered);
  if (words[0] == "unreported") return parse_ranges(words, state.unreported);
  if (words.size() != 2) return false;
  if (words[0] == "head") return parse_number(words[1], state.head) && state.head > 0;
  if (words[0] == "offered_to") return parse_number(words[1], state.offered_to);
  return false;
}

constexpr std::string_view kStateTitle = "pganalytics spool state 1\n";

}  // namespace

std::uint32_t RecordHeader::crc_seed() const { return crc32c(length_and_seq(length, seq)); }

std::string encode_header(std::uint64_t seq, std::string_view payload) {
  const auto length = static_cast<std::uint32_t>(payload.size());
  std::string header(kMagic);
  const auto fields = length_and_seq(length, seq);
  header += fields;
  put_le(header, crc32c(payload, crc32c(fields)));
  return header;
}

std::optional<RecordHeader> decode_header(std::string_view bytes) {
  if (bytes.size() < kHeaderBytes || bytes.substr(0, kMagicBytes) != kMagic) return std::nullopt;
  RecordHeader header{get_le<std::uint32_t>(bytes, 4), get_le<std::uint64_t>(bytes, 8),
                      get_le<std::uint32_t>(bytes, 16)};
  if (header.length > kMaxPayloadBytes || header.seq == 0) return std::nullopt;
  return header;
}

std::size_t find_magic(std::string_view bytes) { return bytes.find(kMagic); }

std::string segment_file_name(std::uint64_t first_seq) { return fmt::format("{:020}.seg", first_seq); }

std::optional<std::uint64_t> parse_segment_file_name(std::string_view name) {
  std::uint64_t seq = 0;
  if (name.size() != 24 || !name.ends_with(".seg") || !parse_number(name.substr(0, 20), seq) || seq == 0)
    return std::nullopt;
  return seq;
}

std::string format_state(const State& state) {
  std::string text(kStateTitle);
  text += fmt::format("head {}\noffered_to {}\n", state.head, state.offered_to);
  text += format_ranges("offered", state.offered);
  text += format_ranges("unreported", state.unreported);
  return text + fmt::format("crc32c {:08x}\n", crc32c(text));
}

std::optional<State> parse_state(std::string_view text) {
  const auto crc_at = text.rfind("crc32c ");
  if (!text.starts_with(kStateTitle) || crc_at == std::string_view::npos || !text.ends_with('\n')) return std::nullopt;
  const auto crc_text = text.substr(crc_at + 7, text.size() - crc_at - 8);
  if (crc_text != fmt::format("{:08x}", crc32c(text.substr(0, crc_at)))) return std::nullopt;
  State state;
  const auto body = text.substr(kStateTitle.size(), crc_at - kStateTitle.size());
  for (auto line : split(body, '\n'))
    if (!line.empty() && !parse_state_line(line, state)) return std::nullopt;
  return state;
}

}  // namespace spool_disk
}  // namespace pga::agent
