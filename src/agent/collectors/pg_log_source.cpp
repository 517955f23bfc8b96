// Choosing the log to follow: the format by preference among log_destination's file formats (or
// by a configured file's name), the place from log_directory or log_path, and plain-worded refusals.
#include "pganalytics/agent/collectors/pg_log_source.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <tuple>
#include <vector>

#include "pganalytics/agent/log/log_files.hpp"

namespace pga::agent::collectors {
namespace {

namespace fs = std::filesystem;
using agent::log::Format;

constexpr Format kPreference[] = {Format::Csv, Format::Json, Format::Stderr};

std::string lowercase_trimmed(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

// The file formats among log_destination's comma-separated words (syslog and eventlog write none).
std::optional<Format> preferred_format(std::string_view log_destination) {
  std::vector<Format> enabled;
  for (std::size_t start = 0; start <= log_destination.size();) {
    std::size_t comma = std::min(log_destination.find(',', start), log_destination.size());
    if (auto format = agent::log::parse_format(lowercase_trimmed(log_destination.substr(start, comma - start))))
      enabled.push_back(*format);
    start = comma + 1;
  }
  for (Format format : kPreference)
    if (std::find(enabled.begin(), enabled.end(), format) != enabled.end()) return format;
  return std::nullopt;
}

Format format_of_file(const fs::path& file) {
  if (file.extension() == ".csv") return Format::Csv;
  if (file.extension() == ".json") return Format::Json;
  return Format::Stderr;
}

LogSourceChoice refuse(std::string problem) { return {std::nullopt, std::move(problem)}; }

LogSourceChoice from_log_path(const ServerLogSettings& settings, LogSource source, const fs::path& log_path) {
  std::error_code ec;
  if (!fs::is_directory(log_path, ec)) {
    source.format = format_of_file(log_path);
    source.file = log_path;
    return {std::move(source), {}};
  }
  if (settings.logging_collector != "on")
    return refuse(fmt::format("log_path {} is a directory, but logging_collector is off, so no log_filename names "
                              "the files in it: set log_path to the file the server's stderr goes to",
                              log_path.string()));
  auto format = preferred_format(settings.log_destination);
  if (!format)
    return refuse(fmt::format("log_destination is '{}', which writes no file: add csvlog (or stderr or jsonlog) to it",
                              settings.log_destination));
  source.format = *format;
  source.directory = log_path;
  source.pattern = settings.log_filename;
  return {std::move(source), {}};
}

LogSourceChoice from_settings(const ServerLogSettings& settings, LogSource source) {
  if (settings.logging_collector != "on")
    return refuse(
        "logging_collector is off, so the server's log is no file the agent can find: set logging_collector = on "
        "(a restart), or set log_path in this [[instance]] block to the file the server's stderr goes to");
  auto format = preferred_format(settings.log_destination);
  if (!format)
    return refuse(fmt::format("log_destination is '{}', which writes no file: add csvlog (or stderr or jsonlog) to "
                              "it, or set log_path in this [[instance]] block",
                              settings.log_destination));
  fs::path directory = settings.log_directory;
  if (directory.is_relative() && settings.data_directory.empty())
    return refuse(fmt::format("log_directory '{}' is relative to data_directory, which the agent's role may not read: "
                              "GRANT pg_monitor (or pg_read_all_settings) to it, or set log_path",
                              settings.log_directory));
  source.format = *format;
  source.data_directory = settings.data_directory;
  source.directory = directory.is_relative() ? source.data_directory / directory : directory;
  source.pattern = settings.log_filename;
  return {std::move(source), {}};
}

}  // namespace

std::optional<fs::path> LogSource::current() const {
  if (!file.empty()) return file;
  return agent::log::find_current_log(directory, pattern, format, data_directory);
}

std::optional<fs::path> LogSource::after(const fs::path& reading) const {
  std::error_code ec;
  const auto reading_time = fs::last_write_time(reading, ec);
  if (!file.empty() || ec) return current();
  // The order find_current_log uses: modification time, then name. A rotated-away file is no
  // longer written, so the files begun after it are the ones later in this order.
  const auto reading_key = std::make_tuple(reading_time, reading.filename().string());
  const std::string name_pattern = agent::log::destination_filename(pattern, format);
  std::optional<fs::path> next;
  std::tuple<fs::file_time_type, std::string> next_key;
  for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    std::error_code entry_ec;
    if (!it->is_regular_file(entry_ec) || !agent::log::matches_strftime(name_pattern, name)) continue;
    auto key = std::make_tuple(it->last_write_time(entry_ec), std::move(name));
    if (entry_ec || key <= reading_key) continue;
    if (!next || key < next_key) {
      next = it->path();
      next_key = std::move(key);
    }
  }
  return next ? next : current();
}

std::string LogSource::explain(const std::string& follower_error) const {
  constexpr std::string_view kGrantRead =
      "let the agent's user read the server's log (for example log_file_mode = 0640 and the agent's user in the "
      "server's group), or run the agent as that user";
  if (follower_error.find(std::strerror(EACCES)) != std::string::npos)
    return fmt::format("{}; {}", follower_error, kGrantRead);
  if (follower_error.find(" is gone") == std::string::npos && follower_error != "no log file found")
    return follower_error;
  // An unreadable directory and an empty one look alike to a listing.
  const fs::path& where = file.empty() ? directory : file;
  if (::access(where.c_str(), file.empty() ? R_OK | X_OK : R_OK) != 0) {
    const int error = errno;
    if (error == EACCES) return fmt::format("cannot read {}: {}; {}", where.string(), std::strerror(error), kGrantRead);
    return fmt::format("cannot read {}: {}; is the agent on the database server's host? Otherwise set log_path in "
                       "this [[instance]] block",
                       where.string(), std::strerror(error));
  }
  return fmt::format("no file in {} matches log_filename '{}' for {}", directory.string(),
                     agent::log::destination_filename(pattern, format), agent::log::format_name(format));
}

LogSourceChoice choose_log_source(const ServerLogSettings& settings, const std::string& log_path) {
  LogSource source;
  source.line_prefix = settings.log_line_prefix;
  source.log_timezone = settings.log_timezone;
  if (!log_path.empty()) return from_log_path(settings, std::move(source), log_path);
  return from_settings(settings, std::move(source));
}

}  // namespace pga::agent::collectors
