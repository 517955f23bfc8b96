// Reading and parsing primitives shared by the OS collectors; none of them throws on bad input,
// since a kernel we have not seen must cost one family, not the agent.
#include "pganalytics/agent/collectors/os_procfs.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <iterator>

namespace pga::agent::collectors {

OsResult<std::string> read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return OsError{path.string(), std::strerror(errno)};
  std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  if (in.bad()) return OsError{path.string(), "read failed"};
  return text;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    const auto eol = text.find('\n');
    lines.push_back(text.substr(0, eol));
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
  }
  return lines;
}

std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  constexpr std::string_view kSpace = " \t\r\n";
  for (auto start = line.find_first_not_of(kSpace); start != std::string_view::npos;) {
    const auto end = line.find_first_of(kSpace, start);
    fields.push_back(line.substr(start, end == std::string_view::npos ? end : end - start));
    start = end == std::string_view::npos ? end : line.find_first_not_of(kSpace, end);
  }
  return fields;
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || text.front() == '-' || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::optional<double> parse_double(std::string_view text) {
  double value = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc{} || ptr != end) return std::nullopt;
  return value;
}

std::optional<std::int64_t> scale(std::int64_t value, std::int64_t factor) {
  std::int64_t out = 0;
  if (__builtin_mul_overflow(value, factor, &out)) return std::nullopt;
  return out;
}

metrics::Sample host_sample(std::string family, std::span<const std::string_view> columns) {
  metrics::Sample sample;
  sample.family = std::move(family);
  sample.at = std::chrono::system_clock::now();
  sample.columns.assign(columns.begin(), columns.end());
  return sample;
}

OsResult<metrics::Row> counter_row(std::string key, std::span<const std::string_view> numbers,
                                   std::span<const CounterField> counters, const std::string& file,
                                   std::string_view where) {
  metrics::Row row{std::move(key)};
  for (const auto& counter : counters) {
    if (counter.index >= numbers.size()) {
      row.emplace_back(nullptr);
      continue;
    }
    const auto value = parse_int(numbers[counter.index]);
    const auto scaled = value ? scale(*value, counter.factor) : std::nullopt;
    if (!scaled)
      return OsError{file, fmt::format("{}: {}: not a counter: '{}'", where, counter.column, numbers[counter.index])};
    row.emplace_back(*scaled);
  }
  return row;
}

OsResult<KeyValueFile> KeyValueFile::read(const std::filesystem::path& path) {
  auto text = read_text(path);
  if (!text) return text.error();
  KeyValueFile file;
  file.path_ = path.string();
  file.text_ = std::make_unique<const std::string>(std::move(text).value());
  const auto lines = split_lines(*file.text_);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto line = lines[i];
    const auto key_start = line.find_first_not_of(" \t");
    if (key_start == std::string_view::npos) continue;
    const auto key_end = line.find_first_of(" \t", key_start);
    const auto value_start = line.find_first_not_of(" \t", key_end);
    if (key_end == std::string_view::npos || value_start == std::string_view::npos)
      return file.error(fmt::format("line {}: a key without a value", i + 1));
    auto key = line.substr(key_start, key_end - key_start);
    if (key.ends_with(':')) key.remove_suffix(1);
    file.entries_.emplace(key, line.substr(value_start));
  }
  return file;
}

OsResult<metrics::Cell> KeyValueFile::int_cell(std::string_view key, std::int64_t factor) const {
  const auto entry = entries_.find(key);
  if (entry == entries_.end()) return metrics::Cell{nullptr};
  const auto fields = split_fields(entry->second);
  const auto first = fields.empty() ? std::string_view{} : fields.front();
  const auto value = parse_int(first);
  const auto scaled = value ? scale(*value, factor) : std::nullopt;
  if (!scaled) return error(fmt::format("{}: not a counter: '{}'", key, first));
  return metrics::Cell{*scaled};
}

}  // namespace pga::agent::collectors
