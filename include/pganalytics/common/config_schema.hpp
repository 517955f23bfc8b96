// The declared-table configuration reader: every key a file may hold is declared once (section,
// name, type, default, description) and a TOML file is checked against that table.
#pragma once
#include <cstdint>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "pganalytics/common/units.hpp"

namespace pga::config {

enum class KeyType { String, StringList, Duration, Size, Integer, Boolean, Choice, ListenAddress, HttpsUrl };

struct KeySpec {
  std::string_view section;       // "server" for [server]; for [[instance]] the array's name
  std::string_view name;
  KeyType type;
  std::string_view default_toml;  // the default exactly as conf/*.toml writes it; "" = required
  std::string_view description;   // the one-line comment above the key in conf/*.toml
  std::int64_t min = 0;           // lower bound: milliseconds, bytes or the integer itself
  std::int64_t max = INT64_MAX;
  std::string_view choices = {};  // for Choice: allowed values separated by '|'
};

struct Schema {
  std::string_view kind;                         // "server" or "agent"
  std::span<const KeySpec> keys;
  std::vector<std::string_view> array_sections;  // sections written [[name]], repeatable
};

using Value = std::variant<std::string, std::vector<std::string>, Duration, std::uint64_t, std::int64_t, bool>;
using Section = std::map<std::string, Value, std::less<>>;

// A configuration problem, located in its file. what() reads "file:line: key: message".
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string file, int line, std::string key, const std::string& message);
  const std::string& file() const { return file_; }
  int line() const { return line_; }
  const std::string& key() const { return key_; }

 private:
  std::string file_;
  int line_;
  std::string key_;
};

// The checked contents of one file: every declared key is present, defaults filled in.
class Document {
 public:
  const Section& section(std::string_view name) const;
  const std::vector<Section>& array(std::string_view name) const;
  int array_line(std::string_view name, std::size_t index) const;  // line of the [[name]] header
  const std::string& file() const { return file_; }

 private:
  friend Document load(const std::string&, const Schema&);
  friend Document load_string(std::string_view, const std::string&, const Schema&);
  std::string file_;
  std::map<std::string, Section, std::less<>> sections_;
  std::map<std::string, std::vector<Section>, std::less<>> arrays_;
  std::map<std::string, std::vector<int>, std::less<>> array_lines_;
};

// Reads and checks a file; throws ConfigError naming file, line and key.
Document load(const std::string& path, const Schema& schema);
Document load_string(std::string_view toml_text, const std::string& name_for_errors, const Schema& schema);

template <typename T>
const T& get(const Section& section, std::string_view key) {
  return std::get<T>(section.find(key)->second);
}

}  // namespace pga::config
