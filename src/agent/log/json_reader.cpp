// The jsonlog format (PostgreSQL 15+), one object per line, through Boost.JSON's streaming parser
// keeping only the first bytes of each string; unknown keys and nested values are ignored.
#include <boost/json/basic_parser_impl.hpp>
#include <array>

#include "pganalytics/agent/log/formats.hpp"

namespace pga::agent::log {
namespace {

using boost::json::error_code;
using boost::json::string_view;

constexpr std::array<std::pair<std::string_view, std::string LogEntry::*>, 14> kTextKeys = {{
    {"user", &LogEntry::user},
    {"dbname", &LogEntry::database},
    {"remote_host", &LogEntry::remote_host},
    {"session_id", &LogEntry::session_id},
    {"error_severity", &LogEntry::severity},
    {"state_code", &LogEntry::sqlstate},
    {"message", &LogEntry::message},
    {"detail", &LogEntry::detail},
    {"hint", &LogEntry::hint},
    {"internal_query", &LogEntry::internal_query},
    {"context", &LogEntry::context},
    {"statement", &LogEntry::statement},
    {"application_name", &LogEntry::application},
    {"backend_type", &LogEntry::backend_type},
}};
constexpr std::size_t kMaxKey = 64;

std::string_view view(string_view s) { return {s.data(), s.size()}; }

// Collects the top-level members of one object into a LogEntry.
struct Handler {
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  Handler(const TimeZones& zones, std::size_t cap) : zones(zones), cap(cap) {}

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_array_begin(error_code&) { return ++depth, true; }
  bool on_array_end(std::size_t, error_code&) { return --depth, true; }
  bool on_object_begin(error_code&) { return ++depth, true; }
  bool on_object_end(std::size_t, error_code&) { return --depth, true; }
  bool on_key_part(string_view s, std::size_t, error_code&) { return append_capped(key, view(s), kMaxKey), true; }
  bool on_key(string_view s, std::size_t, error_code&) {
    append_capped(key, view(s), kMaxKey);
    current.swap(key);
    key.clear();
    return true;
  }
  bool on_string_part(string_view s, std::size_t, error_code&) {
    if (depth == 1) append_capped(value, view(s), cap);
    return true;
  }
  bool on_string(string_view s, std::size_t, error_code&) {
    if (depth == 1) {
      append_capped(value, view(s), cap);
      set_text();
    }
    value.clear();
    return true;
  }
  bool on_number_part(string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, string_view, error_code&) { return set_number(i), true; }
  bool on_uint64(std::uint64_t u, string_view, error_code&) {
    if (u <= std::uint64_t(INT64_MAX)) set_number(static_cast<std::int64_t>(u));
    return true;
  }
  bool on_double(double, string_view, error_code&) { return true; }
  bool on_bool(bool, error_code&) { return true; }
  bool on_null(error_code&) { return true; }
  bool on_comment_part(string_view, error_code&) { return true; }
  bool on_comment(string_view, error_code&) { return true; }

  void reset() {
    depth = 0;
    key.clear();
    current.clear();
    value.clear();
    entry = LogEntry{};
  }

  void set_text() {
    if (current == "timestamp") {
      entry.time = parse_log_time(value, zones);
      return;
    }
    for (auto [name, field] : kTextKeys)
      if (current == name) entry.*field = std::move(value);
  }
  void set_number(std::int64_t n) {
    if (depth != 1) return;
    if (current == "pid") entry.pid = n;
    else if (current == "line_num") entry.line_number = n;
  }

  const TimeZones& zones;
  std::size_t cap;
  int depth = 0;
  std::string key;
  std::string current;
  std::string value;
  LogEntry entry;
};

class JsonReader final : public LineReader {
 public:
  explicit JsonReader(const ReaderOptions& options)
      : zones_(options.zones), parser_(boost::json::parse_options{}, zones_, options.max_field_bytes) {}

  void flush(const EntrySink&) override {}

 private:
  void on_part(std::string_view part, bool ends_line, const EntrySink& sink) override {
    if (!failed_ && !parser_.done()) write(part);
    if (!ends_line) return;
    finish_line(sink);
    handed_out_through_line();
  }

  void write(std::string_view part) {
    if (!started_) {
      std::size_t first = part.find_first_not_of(" \t\r");
      if (first == std::string_view::npos) return;
      started_ = true;
    }
    error_code ec;
    parser_.write_some(true, part.data(), part.size(), ec);
    failed_ = static_cast<bool>(ec);
  }

  void finish_line(const EntrySink& sink) {
    if (started_ && !failed_ && !parser_.done()) {
      error_code ec;
      parser_.write_some(false, nullptr, 0, ec);
      failed_ = static_cast<bool>(ec);
    }
    if (started_ && !failed_ && parser_.done()) sink(std::move(parser_.handler().entry));
    else if (started_) count_malformed();
    parser_.reset();
    parser_.handler().reset();
    started_ = failed_ = false;
  }

  TimeZones zones_;
  boost::json::basic_parser<Handler> parser_;
  bool started_ = false;
  bool failed_ = false;
};

}  // namespace

std::unique_ptr<LogReader> make_json_reader(const ReaderOptions& options) {
  return std::make_unique<JsonReader>(options);
}

}  // namespace pga::agent::log
