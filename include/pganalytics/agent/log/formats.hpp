// The per-format readers behind make_reader, and the line splitting the stderr and jsonlog
// readers share. Callers use make_reader; this header exists so each format has its own file.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "pganalytics/agent/log/entry.hpp"

namespace pga::agent::log {

std::unique_ptr<LogReader> make_stderr_reader(const ReaderOptions& options);
std::unique_ptr<LogReader> make_csv_reader(const ReaderOptions& options);
std::unique_ptr<LogReader> make_json_reader(const ReaderOptions& options);

// Appends at most up to `cap` bytes in total; the rest of an oversized field is dropped.
void append_capped(std::string& to, std::string_view text, std::size_t cap);

// Splits the byte stream into lines, handing them over in pieces as they arrive so a line
// never has to be held whole, and keeps the count of bytes not yet handed out as entries.
class LineReader : public LogReader {
 public:
  void feed(std::string_view bytes, const EntrySink& sink) final;
  std::uint64_t unfinished_bytes() const final { return fed_ - boundary_; }
  std::uint64_t malformed() const final { return malformed_; }

 protected:
  // A piece of the current line, without the newline; `ends_line` when the newline follows.
  virtual void on_part(std::string_view part, bool ends_line, const EntrySink& sink) = 0;

  // Everything before the current line has been handed out (its entries are complete).
  void handed_out_before_line() { boundary_ = line_start_; }
  // Everything up to and including the current line has been handed out or discarded.
  void handed_out_through_line() { boundary_ = fed_; }
  // Bytes of an unterminated line have been fed.
  bool mid_line() const { return fed_ > line_start_; }
  void count_malformed() { ++malformed_; }

 private:
  std::uint64_t fed_ = 0;
  std::uint64_t line_start_ = 0;
  std::uint64_t boundary_ = 0;
  std::uint64_t malformed_ = 0;
};

}  // namespace pga::agent::log
