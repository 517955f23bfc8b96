// log_line_prefix matching anchored on "SEVERITY:  ": the prefix must end exactly there, and
// free-text escapes (%u, %a, ...) are matched lazily with memoised backtracking.
#include "pganalytics/agent/log/prefix.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <span>

namespace pga::agent::log {
namespace {

using Kind = LinePrefix::Token::Kind;

constexpr std::array<std::string_view, 8> kPrimary = {"DEBUG", "LOG",   "INFO",  "NOTICE",
                                                       "WARNING", "ERROR", "FATAL", "PANIC"};
constexpr std::array<std::string_view, 7> kSecondary = {"DETAIL",   "HINT",      "QUERY",    "CONTEXT",
                                                         "LOCATION", "STATEMENT", "BACKTRACE"};
// Names are at most 63 bytes and host names 255; a longer free-text field is not a prefix.
constexpr std::size_t kMaxText = 320;
// The prefix and severity word sit at the start of a line; beyond this it is message text.
constexpr std::size_t kMaxPrefix = 4096;

Kind kind_of(char escape) {
  switch (escape) {
    case 'a': case 'u': case 'd': case 'h': case 'b': case 'i': case 'r':
      return Kind::Text;
    case 'q':
      return Kind::Stop;
    default:
      return Kind::Word;
  }
}

bool is_escape(char c) { return std::string_view{"audhbirpPlxQtmsnecvq"}.find(c) != std::string_view::npos; }

bool digit(char c) { return c >= '0' && c <= '9'; }

std::size_t skip(std::string_view s, std::size_t at, bool (*accept)(char)) {
  while (at < s.size() && accept(s[at])) ++at;
  return at;
}

// "YYYY-MM-DD HH:MM:SS[.fff] ZONE": the only value with a space inside.
std::size_t scan_timestamp(std::string_view s, std::size_t at) {
  constexpr std::string_view shape = "dddd-dd-dd dd:dd:dd";
  if (s.size() - at < shape.size()) return std::string_view::npos;
  for (std::size_t i = 0; i < shape.size(); ++i)
    if (shape[i] == 'd' ? !digit(s[at + i]) : s[at + i] != shape[i]) return std::string_view::npos;
  at += shape.size();
  if (at < s.size() && s[at] == '.') at = skip(s, at + 1, digit);
  if (at >= s.size() || s[at] != ' ') return std::string_view::npos;
  // Zone abbreviations are letters ("CEST") or a signed number ("+03", "-0330").
  std::size_t zone = at + 1;
  if (zone < s.size() && (s[zone] == '+' || s[zone] == '-')) at = skip(s, zone + 1, digit);
  else at = skip(s, zone, [](char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); });
  return at == zone || s[at - 1] == '+' || s[at - 1] == '-' ? std::string_view::npos : at;
}

// The end of a fixed-shape value starting at `at`, or npos.
std::size_t scan_word(char escape, std::string_view s, std::size_t at) {
  switch (escape) {
    case 't': case 'm': case 's':
      return scan_timestamp(s, at);
    case 'n':
      return skip(s, at, [](char c) { return digit(c) || c == '.'; });
    case 'e': {
      std::size_t end = skip(s, at, [](char c) { return digit(c) || (c >= 'A' && c <= 'Z'); });
      return end - at == 5 ? end : std::string_view::npos;
    }
    case 'c':
      return skip(s, at, [](char c) { return digit(c) || (c >= 'a' && c <= 'f') || c == '.'; });
    case 'v':
      return skip(s, at, [](char c) { return digit(c) || c == '/'; });
    default:  // p P l x Q: integers, query ids may be negative
      return skip(s, at < s.size() && s[at] == '-' ? at + 1 : at, digit);
  }
}

std::string_view trim_spaces(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::optional<std::int64_t> to_int(std::string_view s) {
  std::int64_t value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc{} || end != s.data() + s.size()) return std::nullopt;
  return value;
}

// Before authentication PostgreSQL prints "[unknown]" where csvlog and jsonlog print nothing.
std::string name_value(std::string_view s) { return s == "[unknown]" ? std::string{} : std::string{s}; }

}  // namespace

bool is_primary_severity(std::string_view word) {
  return std::find(kPrimary.begin(), kPrimary.end(), word) != kPrimary.end();
}

bool is_secondary_severity(std::string_view word) {
  return std::find(kSecondary.begin(), kSecondary.end(), word) != kSecondary.end();
}

LinePrefix::LinePrefix(std::string_view text) {
  auto literal = [this]() -> std::string& {
    if (tokens_.empty() || tokens_.back().kind != Kind::Literal) tokens_.push_back({Kind::Literal});
    return tokens_.back().literal;
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      literal() += text[i];
      continue;
    }
    if (++i == text.size()) break;
    if (text[i] == '%') {
      literal() += '%';
      continue;
    }
    std::size_t spec = i;
    if (text[i] == '-' && i + 1 < text.size() && digit(text[i + 1])) ++i;
    i = skip(text, i, digit);
    if (i == text.size()) break;
    int padding = 0;
    std::from_chars(text.data() + spec + (text[spec] == '-'), text.data() + i, padding);
    if (text[spec] == '-') padding = -padding;
    if (is_escape(text[i])) tokens_.push_back({kind_of(text[i]), text[i], padding, {}});
  }
}

bool LinePrefix::has_pid() const {
  return std::any_of(tokens_.begin(), tokens_.end(), [](const Token& t) { return t.escape == 'p'; });
}

std::optional<LinePrefix::Line> LinePrefix::parse(std::string_view line, LogEntry& entry,
                                                  const TimeZones& zones) const {
  std::string_view head = line.substr(0, kMaxPrefix);
  for (std::size_t colon = head.find(":  "); colon != std::string_view::npos;
       colon = head.find(":  ", colon + 1)) {
    for (std::span<const std::string_view> words : {std::span<const std::string_view>{kPrimary},
                                                    std::span<const std::string_view>{kSecondary}}) {
      for (std::string_view word : words) {
        if (colon < word.size() || head.substr(colon - word.size(), word.size()) != word) continue;
        std::string_view region = line.substr(0, colon - word.size());
        std::vector<Span> spans(tokens_.size(), {std::string_view::npos, 0});
        std::vector<std::uint8_t> failed((tokens_.size() + 1) * (region.size() + 1), 0);
        if (!match(region, 0, 0, spans, failed)) continue;
        assign(region, spans, entry, zones);
        return Line{word, line.substr(colon + 3)};
      }
    }
  }
  return std::nullopt;
}

bool LinePrefix::match(std::string_view region, std::size_t token, std::size_t at,
                       std::vector<Span>& spans, std::vector<std::uint8_t>& failed) const {
  if (token == tokens_.size()) return at == region.size();
  std::uint8_t& memo = failed[token * (region.size() + 1) + at];
  if (memo) return false;
  const Token& t = tokens_[token];
  bool ok = false;
  switch (t.kind) {
    case Kind::Literal:
      ok = region.substr(at).starts_with(t.literal) && match(region, token + 1, at + t.literal.size(), spans, failed);
      break;
    case Kind::Stop:  // background processes print nothing from %q on
      if (at == region.size()) {
        std::fill(spans.begin() + token, spans.end(), Span{std::string_view::npos, 0});
        ok = true;
      } else {
        ok = match(region, token + 1, at, spans, failed);
      }
      break;
    case Kind::Text:
      ok = match_text(region, token, at, spans, failed);
      break;
    case Kind::Word: {
      std::size_t start = t.padding > 0 ? skip(region, at, [](char c) { return c == ' '; }) : at;
      std::size_t end = scan_word(t.escape, region, start);
      if (end == std::string_view::npos) break;
      spans[token] = {start, end};
      std::size_t width = static_cast<std::size_t>(t.padding < 0 ? -t.padding : 0);
      while (end - start < width && end < region.size() && region[end] == ' ') ++end;
      ok = match(region, token + 1, end, spans, failed);
      break;
    }
  }
  memo = !ok;
  return ok;
}

bool LinePrefix::match_text(std::string_view region, std::size_t token, std::size_t at,
                            std::vector<Span>& spans, std::vector<std::uint8_t>& failed) const {
  std::size_t last = std::min(region.size(), at + kMaxText);
  for (std::size_t end = at; end <= last; ++end) {
    spans[token] = {at, end};
    if (match(region, token + 1, end, spans, failed)) return true;
  }
  return false;
}

void LinePrefix::assign(std::string_view region, const std::vector<Span>& spans, LogEntry& entry,
                        const TimeZones& zones) const {
  for (std::size_t i = 0; i < tokens_.size(); ++i) {
    if (spans[i].first == std::string_view::npos) continue;
    std::string_view value = trim_spaces(region.substr(spans[i].first, spans[i].second - spans[i].first));
    switch (tokens_[i].escape) {
      case 't': case 'm': entry.time = parse_log_time(value, zones); break;
      case 'n': entry.time = parse_epoch(value); break;
      case 'p': entry.pid = to_int(value); break;
      case 'l': entry.line_number = to_int(value); break;
      case 'u': entry.user = name_value(value); break;
      case 'd': entry.database = name_value(value); break;
      case 'a': entry.application = name_value(value); break;
      case 'h': entry.remote_host = value; break;
      case 'r': entry.remote_host = value.substr(0, value.find('(')); break;
      case 'b': entry.backend_type = value; break;
      case 'c': entry.session_id = value; break;
      case 'e': entry.sqlstate = value; break;
      default: break;  // %i %s %v %x %P %Q: shape checked, not kept
    }
  }
}

}  // namespace pga::agent::log
