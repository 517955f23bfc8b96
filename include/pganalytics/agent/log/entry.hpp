// One PostgreSQL log entry as the three log formats (stderr, csvlog, jsonlog) all yield it, and
// the push-style reader interface that turns bytes of a log file into entries.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "pganalytics/agent/log/timestamp.hpp"

namespace pga::agent::log {

enum class Format { Stderr, Csv, Json };

// "stderr", "csvlog", "jsonlog": the words of log_destination and of current_logfiles.
std::string_view format_name(Format format);
std::optional<Format> parse_format(std::string_view name);

// Text fields are empty when the source did not say (a NULL column, an omitted JSON key, an
// empty %u of a background process, "[unknown]" before authentication).
struct LogEntry {
  std::optional<std::chrono::system_clock::time_point> time;
  std::optional<std::int64_t> pid;
  std::optional<std::int64_t> line_number;
  std::string user;
  std::string database;
  std::string application;
  std::string remote_host;
  std::string backend_type;
  std::string session_id;
  std::string severity;  // LOG, WARNING, ERROR, FATAL, PANIC, DEBUG, INFO, NOTICE
  std::string sqlstate;  // as the source printed it; stderr knows it only with %e or verbose
  std::string message;
  std::string detail;
  std::string hint;
  std::string context;
  std::string statement;
  std::string internal_query;
};

using EntrySink = std::function<void(LogEntry&&)>;

struct ReaderOptions {
  Format format = Format::Stderr;
  std::string line_prefix;  // the server's log_line_prefix; stderr only
  TimeZones zones;
  // Every text field is cut here: a logged multi-megabyte statement must not cost as much
  // memory, and only the first 1,000 characters of a message are stored anyway.
  std::size_t max_field_bytes = 64 * 1024;
};

// Fed the bytes of one log file in order, in chunks of any size, hands each complete entry to
// the sink. Memory stays bounded by the fields being assembled, whatever the file holds.
class LogReader {
 public:
  virtual ~LogReader() = default;
  virtual void feed(std::string_view bytes, const EntrySink& sink) = 0;
  // The writer has gone quiet: an entry that could still grow (stderr continuation lines)
  // is complete now, unless a line of it is still unterminated.
  virtual void flush(const EntrySink& sink) = 0;
  // Bytes fed that belong to entries not yet handed out: a restart must read them again.
  virtual std::uint64_t unfinished_bytes() const = 0;
  // Records that could not be read (bad CSV arity, invalid JSON, orphan DETAIL lines).
  virtual std::uint64_t malformed() const = 0;
};

std::unique_ptr<LogReader> make_reader(const ReaderOptions& options);

}  // namespace pga::agent::log
