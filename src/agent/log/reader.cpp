// The reader factory, format names, and the line splitter that stderr and jsonlog share: it
// passes each line on in pieces and tracks which bytes have become entries.
#include <array>
#include <utility>

#include "pganalytics/agent/log/formats.hpp"

namespace pga::agent::log {
namespace {

constexpr std::array<std::pair<Format, std::string_view>, 3> kNames = {
    {{Format::Stderr, "stderr"}, {Format::Csv, "csvlog"}, {Format::Json, "jsonlog"}}};

}  // namespace

std::string_view format_name(Format format) {
  for (auto [f, name] : kNames)
    if (f == format) return name;
  return {};
}

std::optional<Format> parse_format(std::string_view name) {
  for (auto [f, n] : kNames)
    if (n == name) return f;
  return std::nullopt;
}

std::unique_ptr<LogReader> make_reader(const ReaderOptions& options) {
  switch (options.format) {
    case Format::Csv: return make_csv_reader(options);
    case Format::Json: return make_json_reader(options);
    case Format::Stderr: break;
  }
  return make_stderr_reader(options);
}

void append_capped(std::string& to, std::string_view text, std::size_t cap) {
  if (to.size() < cap) to.append(text.substr(0, cap - to.size()));
}

void LineReader::feed(std::string_view bytes, const EntrySink& sink) {
  while (!bytes.empty()) {
    std::size_t newline = bytes.find('\n');
    bool ends_line = newline != std::string_view::npos;
    std::string_view part = bytes.substr(0, newline);
    fed_ += part.size() + (ends_line ? 1 : 0);
    on_part(part, ends_line, sink);
    if (!ends_line) return;
    line_start_ = fed_;
    bytes.remove_prefix(newline + 1);
  }
}

}  // namespace pga::agent::log
