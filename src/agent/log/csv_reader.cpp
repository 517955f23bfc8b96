// The csvlog format: 23 (PG 12), 24 (13) or 26 (14-17) columns, quoted fields with doubled quotes
// and embedded newlines, parsed byte by byte so a record is never held whole in memory.
#include <charconv>

#include "pganalytics/agent/log/formats.hpp"

namespace pga::agent::log {
namespace {

// Column positions shared by every version; 13 appended backend_type, 14 leader_pid and query_id.
enum Column : std::size_t {
  kLogTime = 0, kUser = 1, kDatabase = 2, kPid = 3, kConnectionFrom = 4, kSessionId = 5,
  kLineNum = 6, kSeverity = 11, kSqlstate = 12, kMessage = 13, kDetail = 14, kHint = 15,
  kInternalQuery = 16, kContext = 18, kQuery = 19, kApplication = 22, kBackendType = 23,
};
constexpr std::size_t kMaxColumns = 26;

std::optional<std::int64_t> to_int(const std::string& s) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// "host:port" or "[local]"; the port is dropped as %h drops it.
std::string host_of(const std::string& from) {
  std::size_t colon = from.rfind(':');
  if (colon == std::string::npos || colon + 1 == from.size()) return from;
  for (std::size_t i = colon + 1; i < from.size(); ++i)
    if (from[i] < '0' || from[i] > '9') return from;
  return from.substr(0, colon);
}

class CsvReader final : public LogReader {
 public:
  explicit CsvReader(const ReaderOptions& options) : zones_(options.zones), cap_(options.max_field_bytes) {}

  void feed(std::string_view bytes, const EntrySink& sink) override {
    std::size_t i = 0;
    while (i < bytes.size()) i = step(bytes, i, sink);
    fed_ += bytes.size();
  }
  void flush(const EntrySink&) override {}
  std::uint64_t unfinished_bytes() const override { return fed_ - boundary_; }
  std::uint64_t malformed() const override { return malformed_; }

 private:
  enum class State { FieldStart, Unquoted, Quoted, QuoteInQuoted };

  // Consumes from bytes[i] on and returns where to go on.
  std::size_t step(std::string_view bytes, std::size_t i, const EntrySink& sink) {
    switch (state_) {
      case State::FieldStart:
        if (bytes[i] == '"') {
          state_ = State::Quoted;
          return i + 1;
        }
        state_ = State::Unquoted;
        return i;
      case State::Unquoted: {
        std::size_t end = bytes.find_first_of(",\n", i);
        append_capped(field_, bytes.substr(i, end - i), cap_);
        if (end == std::string_view::npos) return bytes.size();
        delimiter(bytes[end], end, sink);
        return end + 1;
      }
      case State::Quoted: {
        std::size_t end = bytes.find('"', i);
        append_capped(field_, bytes.substr(i, end - i), cap_);
        if (end == std::string_view::npos) return bytes.size();
        state_ = State::QuoteInQuoted;
        return end + 1;
      }
      case State::QuoteInQuoted:
        if (bytes[i] == '"') {
          append_capped(field_, "\"", cap_);
          state_ = State::Quoted;
        } else if (bytes[i] == ',' || bytes[i] == '\n') {
          delimiter(bytes[i], i, sink);
        } else if (bytes[i] != '\r') {
          state_ = State::Unquoted;  // text after a closing quote: keep it, as readers do
          return i;
        }
        return i + 1;
    }
    return bytes.size();
  }

  void delimiter(char c, std::size_t at, const EntrySink& sink) {
    if (!field_.empty() && field_.back() == '\r' && c == '\n') field_.pop_back();
    if (count_ < kMaxColumns) fields_[count_] = std::move(field_);
    ++count_;
    field_.clear();
    state_ = State::FieldStart;
    if (c != '\n') return;
    end_record(sink);
    boundary_ = fed_ + at + 1;
  }

  void end_record(const EntrySink& sink) {
    std::size_t count = count_;
    count_ = 0;
    if (count == 1 && fields_[0].empty()) return;  // a blank line
    if (count != 23 && count != 24 && count != 26) {
      ++malformed_;
      return;
    }
    sink(entry(count));
  }

  LogEntry entry(std::size_t count) {
    LogEntry e;
    e.time = parse_log_time(fields_[kLogTime], zones_);
    e.user = std::move(fields_[kUser]);
    e.database = std::move(fields_[kDatabase]);
    e.pid = to_int(fields_[kPid]);
    e.remote_host = host_of(fields_[kConnectionFrom]);
    e.session_id = std::move(fields_[kSessionId]);
    e.line_number = to_int(fields_[kLineNum]);
    e.severity = std::move(fields_[kSeverity]);
    e.sqlstate = std::move(fields_[kSqlstate]);
    e.message = std::move(fields_[kMessage]);
    e.detail = std::move(fields_[kDetail]);
    e.hint = std::move(fields_[kHint]);
    e.internal_query = std::move(fields_[kInternalQuery]);
    e.context = std::move(fields_[kContext]);
    e.statement = std::move(fields_[kQuery]);
    e.application = std::move(fields_[kApplication]);
    if (count > kBackendType) e.backend_type = std::move(fields_[kBackendType]);
    return e;
  }

  TimeZones zones_;
  std::size_t cap_;
  State state_ = State::FieldStart;
  std::string field_;
  std::string fields_[kMaxColumns];
  std::size_t count_ = 0;
  std::uint64_t fed_ = 0;
  std::uint64_t boundary_ = 0;
  std::uint64_t malformed_ = 0;
};

}  // namespace

std::unique_ptr<LogReader> make_csv_reader(const ReaderOptions& options) {
  return std::make_unique<CsvReader>(options);
}

}  // namespace pga::agent::log
