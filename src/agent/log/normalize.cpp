// Message normalisation: values become "?" so the same message with other numbers, names or
// positions folds into one group; the output is valid UTF-8 and capped in characters.
#include <algorithm>
#include <cstdint>

#include "pganalytics/agent/log/event.hpp"
#include "pganalytics/common/utf8.hpp"

namespace pga::agent::log {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool hex(char c) { return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
// Non-ASCII bytes count as letters: identifiers may be in any script.
bool word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || digit(c) || c == '_' || c == '$' ||
         static_cast<unsigned char>(c) >= 0x80;
}

std::size_t word_end(std::string_view s, std::size_t at) {
  while (at < s.size() && word_char(s[at])) ++at;
  return at;
}

// Where the numeric part of the word at `at` (which starts with a digit) ends: the whole word
// when it is decimal, hex (1f2e, 0x1F), else only its leading digits ("64kB" keeps "kB").
std::size_t numeric_end(std::string_view s, std::size_t at) {
  std::size_t end = word_end(s, at);
  std::string_view word = s.substr(at, end - at);
  bool prefixed = word.size() > 2 && word[0] == '0' && (word[1] == 'x' || word[1] == 'X');
  std::size_t i = prefixed ? 2 : 0;
  while (i < word.size() && hex(word[i])) ++i;
  if (i == word.size()) return end;
  std::size_t d = at;
  while (d < end && digit(s[d])) ++d;
  return d;
}

// A number with its separators (0.015, 0/16B3740, 127.0.0.1, 0:00:00.307, 2024-01-02) is one value.
std::size_t number_end(std::string_view s, std::size_t at) {
  for (;;) {
    std::size_t end = numeric_end(s, at);
    bool whole_word = end == word_end(s, at);
    if (!whole_word || end + 1 >= s.size()) return end;
    char sep = s[end];
    if ((sep != '.' && sep != '/' && sep != ':' && sep != '-') || !digit(s[end + 1])) return end;
    at = end + 1;
  }
}

// The closing quote of a literal opened at `at`, a doubled quote standing for itself.
std::size_t closing_quote(std::string_view s, std::size_t at) {
  char q = s[at];
  for (std::size_t i = at + 1; i < s.size(); ++i) {
    if (s[i] != q) continue;
    if (i + 1 < s.size() && s[i + 1] == q) {
      ++i;
      continue;
    }
    return i;
  }
  return std::string_view::npos;
}

// The byte length of the first max_chars characters of valid UTF-8.
std::size_t prefix_bytes(std::string_view s, std::size_t max_chars) {
  std::size_t at = 0;
  for (std::size_t chars = 0; at < s.size() && chars < max_chars; ++chars)
    at += std::max<std::size_t>(1, utf8_sequence_length(s, at));
  return at;
}

}  // namespace

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    std::size_t n = utf8_sequence_length(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string normalize_message(std::string_view input, std::size_t max_chars) {
  std::string clean = valid_utf8(input);
  std::string_view s = clean;
  std::string out;
  // Every output character takes at most 4 bytes: past that the cap is certain to cut.
  for (std::size_t i = 0; i < s.size() && out.size() <= max_chars * 4;) {
    char c = s[i];
    std::size_t close = c == '\'' || c == '"' ? closing_quote(s, i) : std::string_view::npos;
    if (close != std::string_view::npos) {
      out += '?';
      i = close + 1;
    } else if (digit(c)) {
      out += '?';
      i = number_end(s, i);
    } else if (word_char(c)) {
      std::size_t end = word_end(s, i);
      out.append(s.substr(i, end - i));
      i = end;
    } else {
      out += c;
      ++i;
    }
  }
  out.resize(prefix_bytes(out, max_chars));
  return out;
}

}  // namespace pga::agent::log
