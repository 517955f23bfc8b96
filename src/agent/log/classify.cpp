// Classification of log entries into CONTRACT §6 events, reading each kind's figures out of
// PostgreSQL's English messages with plain string scanning (no regex: messages can be megabytes).
#include <algorithm>
#include <array>
#include <charconv>

#include "pganalytics/agent/log/event.hpp"

namespace pga::agent::log {
namespace {

using Text = std::string_view;

constexpr std::array<Text, kEventTypeCount> kNames = {
    "checkpoint", "autovacuum", "autoanalyze", "slow_statement", "lock_wait",   "deadlock",
    "temp_file",  "connection", "disconnection", "error",        "other"};

Text first_line(Text s) { return s.substr(0, s.find('\n')); }

// The text right after the first `label`, or nullopt.
std::optional<Text> after(Text s, Text label) {
  std::size_t at = s.find(label);
  if (at == Text::npos) return std::nullopt;
  return s.substr(at + label.size());
}

std::optional<std::int64_t> leading_int(std::optional<Text> s) {
  std::int64_t value = 0;
  if (!s || std::from_chars(s->data(), s->data() + s->size(), value).ec != std::errc{}) return std::nullopt;
  return value;
}

std::optional<double> leading_double(std::optional<Text> s) {
  double value = 0;
  if (!s || std::from_chars(s->data(), s->data() + s->size(), value).ec != std::errc{}) return std::nullopt;
  return value;
}

// "0.015" seconds → 15 ms, by moving the decimal point in the text rather than multiplying
// binary fractions, so the figure is the one PostgreSQL printed.
std::optional<double> seconds_as_ms(std::optional<Text> s) {
  if (!s) return std::nullopt;
  std::size_t end = 0;
  while (end < s->size() && (((*s)[end] >= '0' && (*s)[end] <= '9') || (*s)[end] == '.')) ++end;
  Text number = s->substr(0, end);
  std::size_t dot = number.find('.');
  Text whole = number.substr(0, dot), frac = dot == Text::npos ? Text{} : number.substr(dot + 1);
  std::string shifted{whole};
  shifted.append(frac.substr(0, 3));
  shifted.append(3 - std::min<std::size_t>(3, frac.size()), '0');
  if (frac.size() > 3) shifted.append(".").append(frac.substr(3));
  return leading_double(Text{shifted});
}

// "H:MM:SS.mmm", as log_disconnections prints the session time.
std::optional<double> session_time_ms(std::optional<Text> s) {
  auto hours = leading_int(s);
  if (!hours) return std::nullopt;
  auto rest = after(*s, ":");
  auto minutes = leading_int(rest);
  auto secs = seconds_as_ms(rest ? after(*rest, ":") : std::nullopt);
  if (!minutes || !secs) return std::nullopt;
  return static_cast<double>(*hours * 3'600'000 + *minutes * 60'000) + *secs;
}

// The name between `of table "` and the last quote of the first line.
std::string relation_of(Text message) {
  Text line = first_line(message);
  auto name = after(line, "of table \"");
  std::size_t close = line.rfind('"');
  if (!name || close == Text::npos || line.data() + close < name->data()) return {};
  return std::string{name->substr(0, line.data() + close - name->data())};
}

bool is_autovacuum(Text m) {
  for (Text head : {"automatic vacuum ", "automatic aggressive vacuum "})
    if (m.starts_with(head) && first_line(m).find("of table \"") != Text::npos) return true;
  return false;
}

bool is_lock_wait(Text m) {
  if (!m.starts_with("process ")) return false;
  Text line = first_line(m);
  if (!line.ends_with(" ms") || line.find(" after ") == Text::npos) return false;
  for (Text what : {" still waiting for ", " acquired ", " avoided deadlock ", " detected deadlock while waiting "})
    if (line.find(what) != Text::npos) return true;
  return false;
}

bool is_connection(Text m) {
  return m.starts_with("connection received:") || m.starts_with("connection authorized:") ||
         m.starts_with("replication connection authorized:");
}

bool is_error(Text severity) { return severity == "ERROR" || severity == "FATAL" || severity == "PANIC"; }

void read_checkpoint(Text m, LogEvent& e) {
  e.buffers_written = leading_int(after(m, "wrote "));
  e.write_ms = seconds_as_ms(after(m, "write="));
  e.sync_ms = seconds_as_ms(after(m, "sync="));
  e.duration_ms = seconds_as_ms(after(m, "total="));
}

void read_vacuum(Text m, LogEvent& e) {
  e.relation = relation_of(m);
  e.tuples_removed = leading_int(after(m, "tuples: "));
  e.pages_removed = leading_int(after(m, "pages: "));
  e.duration_ms = seconds_as_ms(after(m, "elapsed: "));
}

// The kind and its figures, from the message alone (plus the SQLSTATE for deadlocks).
void read_figures(const LogEntry& entry, LogEvent& e) {
  Text m = entry.message;
  if (entry.sqlstate == "40P01" || m.starts_with("deadlock detected")) {
    e.type = EventType::Deadlock;
    if (e.sqlstate.empty()) e.sqlstate = "40P01";
  } else if (m.starts_with("checkpoint complete:") || m.starts_with("restartpoint complete:")) {
    e.type = EventType::Checkpoint;
    read_checkpoint(m, e);
  } else if (is_autovacuum(m)) {
    e.type = EventType::Autovacuum;
    read_vacuum(m, e);
  } else if (m.starts_with("automatic analyze of table \"")) {
    e.type = EventType::Autoanalyze;
    e.relation = relation_of(m);
    e.duration_ms = seconds_as_ms(after(m, "elapsed: "));
  } else if (m.starts_with("duration: ")) {
    e.type = EventType::SlowStatement;
    e.duration_ms = leading_double(after(m, "duration: "));
  } else if (is_lock_wait(m)) {
    e.type = EventType::LockWait;
    Text line = first_line(m);
    e.duration_ms = leading_double(line.substr(line.rfind(" after ") + 7));
  } else if (m.starts_with("temporary file: path \"")) {
    e.type = EventType::TempFile;
    e.temp_file_bytes = leading_int(after(m, "\", size "));
  } else if (is_connection(m)) {
    e.type = EventType::Connection;
  } else if (m.starts_with("disconnection: session time: ")) {
    e.type = EventType::Disconnection;
    e.duration_ms = session_time_ms(after(m, "session time: "));
  } else if (is_error(entry.severity)) {
    e.type = EventType::Error;
  }
}

}  // namespace

std::string_view event_name(EventType type) { return kNames[static_cast<std::size_t>(type)]; }

LogEvent classify(const LogEntry& entry) {
  LogEvent e;
  e.time = entry.time;
  e.severity = entry.severity;
  e.sqlstate = entry.sqlstate == "00000" ? std::string{} : entry.sqlstate;
  e.database = entry.database;
  e.user = entry.user;
  e.application = entry.application;
  e.pid = entry.pid;
  read_figures(entry, e);
  e.message = normalize_message(entry.message);
  return e;
}

}  // namespace pga::agent::log
