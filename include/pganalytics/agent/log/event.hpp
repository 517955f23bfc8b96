// Log entries classified into the events of CONTRACT §6 (metrics_pg_log.event), with the
// figures each kind carries, and the message normalisation that makes them groupable.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "pganalytics/agent/log/entry.hpp"

namespace pga::agent::log {

enum class EventType {
  Checkpoint,     // "checkpoint complete" / "restartpoint complete", one per checkpoint
  Autovacuum,     // "automatic [aggressive ]vacuum [to prevent wraparound ]of table"
  Autoanalyze,    // "automatic analyze of table"
  SlowStatement,  // "duration: X ms[  statement|execute|parse|bind|plan ...]"
  LockWait,       // "process N still waiting for|acquired|avoided deadlock|detected deadlock ... after X ms"
  Deadlock,       // SQLSTATE 40P01 / "deadlock detected"
  TempFile,       // "temporary file: path ..., size N"
  Connection,     // "connection received" / "[replication ]connection authorized"
  Disconnection,  // "disconnection: session time: H:MM:SS.mmm"
  Error,          // ERROR, FATAL or PANIC not classified above
  Other,
};
inline constexpr std::size_t kEventTypeCount = 11;

std::string_view event_name(EventType type);

// Text fields are empty for NULL. Rows folded by the rate limiter have occurrences > 1, the
// sums of their figures, and only the attributes all folded events shared.
struct LogEvent {
  EventType type = EventType::Other;
  std::optional<std::chrono::system_clock::time_point> time;
  std::string severity;
  std::string sqlstate;  // "00000" (no error) is stored as NULL
  // Checkpoint total, vacuum/analyze elapsed, statement duration, lock wait, session time.
  std::optional<double> duration_ms;
  std::string database;
  std::string user;
  std::string application;
  std::optional<std::int64_t> pid;
  std::string message;  // normalised, at most kMaxMessageChars characters
  std::int64_t occurrences = 1;
  std::optional<std::int64_t> buffers_written;
  std::optional<double> write_ms;
  std::optional<double> sync_ms;
  std::string relation;
  std::optional<std::int64_t> tuples_removed;
  std::optional<std::int64_t> pages_removed;
  std::optional<std::int64_t> temp_file_bytes;
};

inline constexpr std::size_t kMaxMessageChars = 1000;

// The messages are PostgreSQL's English ones: the server must run with lc_messages='C' (or
// another English locale), as pgBadger also requires.
LogEvent classify(const LogEntry& entry);

// Numbers, quoted literals ('…' and "…"), hex and LSNs become "?", so messages that differ only
// in values group together; the result is valid UTF-8 and at most max_chars characters long.
std::string normalize_message(std::string_view text, std::size_t max_chars = kMaxMessageChars);

// Invalid UTF-8 sequences become U+FFFD: text columns must be valid in a UTF-8 database.
std::string valid_utf8(std::string_view text);

}  // namespace pga::agent::log
