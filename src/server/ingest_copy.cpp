// COPY data for ingestion, in PostgreSQL's binary format: PostgreSQL then stores the values
// without parsing numbers and timestamps from text. Also the text format's escaping, which
// bench/ingest's reference COPY uses.
#include <bit>

#include "pganalytics/server/ingest.hpp"

namespace pga::server::ingest {
namespace {

// Signature, flags (no OIDs) and header extension length: 11 + 4 + 4 bytes.
constexpr std::string_view kHeader{"PGCOPY\n\377\r\n\0\0\0\0\0\0\0\0\0", 19};
// Every tuple starts with the time and the owner id.
constexpr std::size_t kLeadingFields = 2;
// timestamptz counts microseconds from 2000-01-01 00:00:00 UTC, not from the Unix epoch.
constexpr std::int64_t kPostgresEpochUs = 946'684'800'000'000;

template <typename Unsigned>
void append_big_endian(std::string& out, Unsigned value) {
  char bytes[sizeof value];
  for (std::size_t i = sizeof value; i-- > 0; value = static_cast<Unsigned>(value >> 8))
    bytes[i] = static_cast<char>(value & 0xFF);
  out.append(bytes, sizeof bytes);
}

void append_length(std::string& out, std::int32_t length) { append_big_endian(out, static_cast<std::uint32_t>(length)); }

}  // namespace

void append_null_field(std::string& out) { append_length(out, -1); }

void append_int64_field(std::string& out, std::int64_t value) {
  append_length(out, 8);
  append_big_endian(out, static_cast<std::uint64_t>(value));
}

void append_float64_field(std::string& out, double value) {
  append_length(out, 8);
  append_big_endian(out, std::bit_cast<std::uint64_t>(value));
}

void append_bool_field(std::string& out, bool value) {
  append_length(out, 1);
  out += value ? '\1' : '\0';
}

// A text is at most a batch long, and batches are far below 2 GiB once inflated.
void append_text_field(std::string& out, std::string_view text) {
  append_length(out, static_cast<std::int32_t>(text.size()));
  out += text;
}

void append_timestamp_field(std::string& out, std::int64_t unix_us) {
  append_int64_field(out, unix_us - kPostgresEpochUs);
}

void append_copy_data(std::string& out, const Batch& batch, std::size_t family_slot,
                      const std::vector<std::int64_t>& owner_of_sample) {
  const auto field_count = static_cast<std::uint16_t>(kLeadingFields + batch.families[family_slot].columns.size());
  std::string prefix;
  for (std::size_t i = 0; i < batch.samples.size(); ++i) {
    const auto& sample = batch.samples[i];
    if (sample.family_slot != family_slot || sample.row_ends.empty()) continue;
    if (out.empty()) out += kHeader;
    prefix.clear();
    append_big_endian(prefix, field_count);
    append_timestamp_field(prefix, sample.at_us);
    append_int64_field(prefix, owner_of_sample[i]);
    out.reserve(out.size() + sample.fields.size() + sample.row_count() * prefix.size());
    const std::string_view fields = sample.fields;
    std::size_t start = 0;
    for (const auto end : sample.row_ends) {
      out += prefix;
      out += fields.substr(start, end - start);
      start = end;
    }
  }
}

void end_copy_data(std::string& out) { append_big_endian(out, std::uint16_t{0xFFFF}); }

std::size_t Batch::row_count() const {
  std::size_t rows = 0;
  for (const auto& sample : samples) rows += sample.row_count();
  return rows;
}

void append_copy_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      default: out += c;
    }
  }
}

}  // namespace pga::server::ingest
