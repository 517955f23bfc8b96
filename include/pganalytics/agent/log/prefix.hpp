// log_line_prefix compiled into a parser for stderr lines: it splits "<prefix>SEVERITY:  text"
// and fills the entry fields the prefix's escapes carry (%t %m %n %p %u %d %a %h %r %e ...).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pganalytics/agent/log/entry.hpp"

namespace pga::agent::log {

// The words PostgreSQL puts between the prefix and ":  ". Primary words open an entry;
// secondary ones (DETAIL, HINT, ...) continue the entry the same process just logged.
bool is_primary_severity(std::string_view word);
bool is_secondary_severity(std::string_view word);

class LinePrefix {
 public:
  struct Token {
    // Text: free text matched lazily (%u %d %a %h %r %b %i); Word: a value of known shape.
    enum class Kind { Literal, Text, Word, Stop } kind;
    char escape = 0;      // the escape letter; 0 for literals and %q
    int padding = 0;      // %-10u: -10, %10u: 10
    std::string literal;  // for Kind::Literal
  };

  struct Line {
    std::string_view severity;  // "LOG", "DETAIL", ...
    std::string_view text;      // after "SEVERITY:  "
  };

  // Escapes PostgreSQL does not know print nothing, so they are dropped here too.
  explicit LinePrefix(std::string_view log_line_prefix);

  // A line that starts with this prefix and a severity word, its prefix fields written into
  // `entry`; nullopt for a line that does not (a continuation, or output of another program).
  std::optional<Line> parse(std::string_view line, LogEntry& entry, const TimeZones& zones) const;

  bool has_pid() const;

 private:
  using Span = std::pair<std::size_t, std::size_t>;
  bool match(std::string_view region, std::size_t token, std::size_t at,
             std::vector<Span>& spans, std::vector<std::uint8_t>& failed) const;
  bool match_text(std::string_view region, std::size_t token, std::size_t at,
                  std::vector<Span>& spans, std::vector<std::uint8_t>& failed) const;
  void assign(std::string_view region, const std::vector<Span>& spans, LogEntry& entry,
              const TimeZones& zones) const;

  std::vector<Token> tokens_;
};

}  // namespace pga::agent::log
