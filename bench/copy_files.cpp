// COPY text exactly as the server writes it: \N for NULL, t/f, shortest round-trip numbers,
// escaped text, and the sample time and owner id in front of every row.
#include "copy_files.hpp"

#include <fmt/format.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "pganalytics/common/time_format.hpp"
#include "pganalytics/metrics/registry.hpp"
#include "pganalytics/server/ingest.hpp"
#include "synthetic_metrics.hpp"

namespace pga::bench {
namespace {

template <typename Number>
void append_number(std::string& out, Number value) {
  char text[32];
  const auto result = std::to_chars(text, text + sizeof text, value);
  out.append(text, result.ptr);
}

void append_cell(std::string& out, const metrics::Cell& cell) {
  std::visit(
      [&out](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        if constexpr (std::is_same_v<T, std::nullptr_t>) out += server::ingest::kCopyNull;
        else if constexpr (std::is_same_v<T, bool>) out += value ? 't' : 'f';
        else if constexpr (std::is_same_v<T, std::string>) server::ingest::append_copy_escaped(out, value);
        else append_number(out, value);
      },
      cell);
}

void append_rows(std::string& out, const metrics::Sample& sample, std::int64_t owner) {
  const auto prefix = fmt::format("{}\t{}", rfc3339_utc(sample.at), owner);
  for (const auto& row : sample.rows) {
    out += prefix;
    for (const auto& cell : row) {
      out += '\t';
      append_cell(out, cell);
    }
    out += '\n';
  }
}

std::string column_list(const metrics::Sample& sample) {
  const auto* family = metrics::find_family(sample.family);
  std::string columns = family->scope == metrics::Scope::Instance ? "time,instance_id" : "time,server_id";
  for (const auto& column : sample.columns) columns += "," + column;
  return columns;
}

struct FamilyFile {
  std::ofstream data;
  std::uint64_t rows = 0;
};

}  // namespace

std::map<std::string, RowOwners> read_owners(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(fmt::format("cannot read the owners file {}", path.string()));
  std::map<std::string, RowOwners> owners;
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    std::istringstream fields(line);
    std::string collector_id;
    RowOwners owner;
    if (!(fields >> collector_id >> owner.server_id >> owner.instance_id))
      throw std::runtime_error(fmt::format("{}:{}: expected collector id, server id, instance id", path.string(), number));
    owners.emplace(collector_id, owner);
  }
  return owners;
}

std::map<std::string, std::uint64_t> write_copy_files(const RunManifest& manifest,
                                                      const std::map<std::string, RowOwners>& owners,
                                                      const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const auto shape = BatchShape::for_values(manifest.values);
  std::map<std::string, FamilyFile> files;
  std::string buffer;
  for (std::size_t agent = 0; agent < manifest.agents.size(); ++agent) {
    const auto& record = manifest.agents[agent];
    if (record.stored_seq == 0) continue;
    const auto owner = owners.find(record.collector_id);
    if (owner == owners.end())
      throw std::runtime_error(fmt::format("no owners known for collector {}", record.collector_id));
    for (std::uint64_t seq = 1; seq <= record.stored_seq; ++seq) {
      for (const auto& sample : synthetic_samples(shape, agent, seq, manifest.sample_time(agent, seq))) {
        auto [file, created] = files.try_emplace(sample.family);
        if (created) {
          std::ofstream(dir / (sample.family + ".columns")) << column_list(sample) << '\n';
          file->second.data.open(dir / (sample.family + ".copy"), std::ios::binary);
        }
        const bool host = metrics::find_family(sample.family)->scope == metrics::Scope::Host;
        buffer.clear();
        append_rows(buffer, sample, host ? owner->second.server_id : owner->second.instance_id);
        file->second.data << buffer;
        file->second.rows += sample.rows.size();
      }
    }
  }
  std::map<std::string, std::uint64_t> rows;
  for (auto& [family, file] : files) {
    file.data.close();
    if (!file.data) throw std::runtime_error(fmt::format("writing the COPY file of {} failed", family));
    rows[family] = file.rows;
  }
  return rows;
}

}  // namespace pga::bench
