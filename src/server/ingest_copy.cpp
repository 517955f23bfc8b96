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

void append_copy_data(std::string& out, const Batch& batch, std::size_t family_slot,
                      const std::vector<std::int64_t>& owner_of_sample) {
  std::string prefix;
  for (std::size_t i = 0; i < batch.samples.size(); ++i) {
    const auto& sample = batch.samples[i];
    if (sample.family_slot != family_slot) continue;
    prefix.clear();
    append_timestamp(prefix, sample.at_us);
    prefix += '\t';
    prefix += std::to_string(owner_of_sample[i]);
    prefix += '\t';
    out.reserve(out.size() + sample.rows.size() + sample.row_count * prefix.size());
    // Encoded rows hold no raw newline (escaping turned them into "\n"), so lines split safely.
    const std::string_view rows = sample.rows;
    for (std::size_t start = 0; start < rows.size();) {
      const auto end = rows.find('\n', start) + 1;
      out += prefix;
      out += rows.substr(start, end - start);
      start = end;
    }
  }
}

std::size_t Batch::row_count() const {
  std::size_t rows = 0;
  for (const auto& sample : samples) rows += sample.row_count;
  return rows;
}

}  // namespace pga::server::ingest
