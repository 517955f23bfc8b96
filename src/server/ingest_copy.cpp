// COPY text format for ingestion: escaping of cell text, and the lines of one family's COPY,
// each a sample's time and owner (instance or server id) followed by a row already encoded.
#include "pganalytics/server/ingest.hpp"

namespace pga::server::ingest {

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

std::string copy_data(const Batch& batch, std::size_t family_slot, const std::vector<std::int64_t>& owner_of_sample) {
  std::string out;
  for (std::size_t i = 0; i < batch.samples.size(); ++i) {
    const auto& sample = batch.samples[i];
    if (sample.family_slot != family_slot) continue;
    const auto prefix = format_timestamp(sample.at_us) + '\t' + std::to_string(owner_of_sample[i]) + '\t';
    out.reserve(out.size() + sample.rows.size() + sample.row_count * prefix.size());
    // Encoded rows hold no raw newline (escaping turned them into "\n"), so lines split safely.
    for (std::size_t start = 0; start < sample.rows.size();) {
      const auto end = sample.rows.find('\n', start) + 1;
      out += prefix;
      out.append(sample.rows, start, end - start);
      start = end;
    }
  }
  return out;
}

std::size_t Batch::row_count() const {
  std::size_t rows = 0;
  for (const auto& sample : samples) rows += sample.row_count;
  return rows;
}

}  // namespace pga::server::ingest
