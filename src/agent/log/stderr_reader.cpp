// The stderr format: prefixed lines joined into entries (tab-indented lines, unprefixed lines and
// the same process's DETAIL/HINT/... lines continue one); the last is held until it is complete.
#include <optional>

#include "pganalytics/agent/log/formats.hpp"
#include "pganalytics/agent/log/prefix.hpp"

namespace pga::agent::log {
namespace {

// A line may hold the prefix on top of a field's worth of text.
constexpr std::size_t kPrefixAllowance = 4096;

bool sqlstate_char(char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z'); }

// log_error_verbosity=verbose puts the SQLSTATE first: "ERROR:  22012: division by zero".
void take_verbose_sqlstate(std::string_view& text, std::string& sqlstate) {
  if (text.size() < 7 || text[5] != ':' || text[6] != ' ') return;
  for (std::size_t i = 0; i < 5; ++i)
    if (!sqlstate_char(text[i])) return;
  sqlstate = text.substr(0, 5);
  text.remove_prefix(7);
}

class StderrReader final : public LineReader {
 public:
  explicit StderrReader(const ReaderOptions& options)
      : prefix_(options.line_prefix), zones_(options.zones), cap_(options.max_field_bytes),
        check_pid_(prefix_.has_pid()) {}

  void flush(const EntrySink& sink) override {
    if (!pending_ || mid_line()) return;
    emit(sink);
    handed_out_through_line();
  }

 private:
  void on_part(std::string_view part, bool ends_line, const EntrySink& sink) override {
    append_capped(line_, part, cap_ + kPrefixAllowance);
    if (!ends_line) return;
    std::string_view line = line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line(line, sink);
    line_.clear();
  }

  void on_line(std::string_view line, const EntrySink& sink) {
    if (!line.empty() && line.front() == '\t') return continue_section(line.substr(1));
    LogEntry fields;
    auto parsed = prefix_.parse(line, fields, zones_);
    if (!parsed) return continue_section(line);
    if (is_secondary_severity(parsed->severity)) return open_section(fields, parsed->severity, parsed->text);
    if (pending_) emit(sink);
    handed_out_before_line();
    start_entry(std::move(fields), parsed->severity, parsed->text);
  }

  void start_entry(LogEntry&& fields, std::string_view severity, std::string_view text) {
    pending_ = std::move(fields);
    pending_->severity = severity;
    take_verbose_sqlstate(text, pending_->sqlstate);
    append_capped(pending_->message, text, cap_);
    section_ = &pending_->message;
  }

  // A secondary line of another process cannot belong to the pending entry; PostgreSQL writes
  // one message at a time, so this only happens with interleaved writers and is dropped.
  void open_section(const LogEntry& fields, std::string_view severity, std::string_view text) {
    section_ = nullptr;
    if (!pending_ || (check_pid_ && fields.pid != pending_->pid)) return orphan();
    if (severity == "DETAIL") section_ = &pending_->detail;
    else if (severity == "HINT") section_ = &pending_->hint;
    else if (severity == "CONTEXT") section_ = &pending_->context;
    else if (severity == "STATEMENT") section_ = &pending_->statement;
    else if (severity == "QUERY") section_ = &pending_->internal_query;
    else return;  // LOCATION and BACKTRACE are not kept
    section_->clear();
    append_capped(*section_, text, cap_);
  }

  void continue_section(std::string_view text) {
    if (!pending_) return orphan();
    if (!section_) return;
    append_capped(*section_, "\n", cap_);
    append_capped(*section_, text, cap_);
  }

  void orphan() {
    count_malformed();
    if (!pending_) handed_out_through_line();
  }

  void emit(const EntrySink& sink) {
    sink(std::move(*pending_));
    pending_.reset();
    section_ = nullptr;
  }

  LinePrefix prefix_;
  TimeZones zones_;
  std::size_t cap_;
  bool check_pid_;
  std::string line_;
  std::optional<LogEntry> pending_;
  std::string* section_ = nullptr;  // the field continuation lines extend; null to drop them
};

}  // namespace

std::unique_ptr<LogReader> make_stderr_reader(const ReaderOptions& options) {
  return std::make_unique<StderrReader>(options);
}

}  // namespace pga::agent::log
