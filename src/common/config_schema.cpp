// Checks a TOML document against a declared key table and fills in defaults. Every error names
// the file, the line and the dotted key, so `check-config` can point at the exact spot.
#include "pganalytics/common/config_schema.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <toml++/toml.h>

namespace pga::config {
namespace {

int line_of(const toml::node& node) { return static_cast<int>(node.source().begin.line); }

std::string dotted(const KeySpec& spec) { return fmt::format("{}.{}", spec.section, spec.name); }

bool valid_listen_address(std::string_view text) {
  // host:port, [v6]:port or :port, with a port in 1..65535.
  auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  auto host = text.substr(0, colon);
  auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc{} || end != port_text.data() + port_text.size() || port == 0 || port > 65535) return false;
  if (host.find(':') != std::string_view::npos) return host.size() > 2 && host.front() == '[' && host.back() == ']';
  return true;
}

bool choice_allowed(std::string_view choices, std::string_view value) {
  while (!choices.empty()) {
    auto bar = choices.find('|');
    if (choices.substr(0, bar) == value) return true;
    if (bar == std::string_view::npos) break;
    choices.remove_prefix(bar + 1);
  }
  return false;
}

class Checker {
 public:
  explicit Checker(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(int line, const std::string& key, const std::string& message) const {
    throw ConfigError(file_, line, key, message);
  }

  Value convert(const KeySpec& spec, const toml::node& node) const {
    const int line = line_of(node);
    const auto key = dotted(spec);
    auto want_string = [&](std::string_view what) -> std::string {
      if (!node.is_string()) fail(line, key, fmt::format("expected {} as a string, got a {}", what, type_name(node)));
      return node.as_string()->get();
    };
    auto check_range = [&](std::int64_t v, std::string_view shown) {
      if (v < spec.min || v > spec.max) fail(line, key, fmt::format("{} is out of range", shown));
    };
    switch (spec.type) {
      case KeyType::String:
        return want_string("text");
      case KeyType::Choice: {
        auto s = want_string("one of " + std::string(spec.choices));
        if (!choice_allowed(spec.choices, s))
          fail(line, key, fmt::format("\"{}\" is not one of {}", s, spec.choices));
        return s;
      }
      case KeyType::ListenAddress: {
        auto s = want_string("an address");
        const bool optional_and_off = s.empty() && spec.default_toml == R"("")";  // "" disables an optional listener
        if (!optional_and_off && !valid_listen_address(s))
          fail(line, key, fmt::format("\"{}\" is not HOST:PORT (e.g. \"0.0.0.0:8443\", \"[::1]:8443\")", s));
        return s;
      }
      case KeyType::HttpsUrl: {
        auto s = want_string("a URL");
        if (!s.starts_with("https://") || s.size() <= 8)
          fail(line, key, fmt::format("\"{}\" is not an https:// URL", s));
        return s;
      }
      case KeyType::StringList: {
        if (!node.is_array()) fail(line, key, fmt::format("expected a list of strings, got a {}", type_name(node)));
        std::vector<std::string> items;
        for (const auto& item : *node.as_array()) {
          if (!item.is_string()) fail(line_of(item), key, "expected every list item to be a string");
          items.push_back(item.as_string()->get());
        }
        return items;
      }
      case KeyType::Duration: {
        auto s = want_string("a duration");
        auto d = parse_duration(s);
        if (!d) fail(line, key, fmt::format("invalid duration \"{}\" (expected digits and a unit: ms, s, m, h, d)", s));
        if (d->count() < spec.min || d->count() > spec.max)
          fail(line, key, fmt::format("duration \"{}\" is outside {}..{}", s, format_duration(Duration{spec.min}),
                                      spec.max == INT64_MAX ? "" : format_duration(Duration{spec.max})));
        return *d;
      }
      case KeyType::Size: {
        auto s = want_string("a size");
        auto bytes = parse_size(s);
        if (!bytes) fail(line, key, fmt::format("invalid size \"{}\" (expected digits and a unit: B, KiB, MiB, GiB)", s));
        if (*bytes > static_cast<std::uint64_t>(spec.max)) fail(line, key, fmt::format("size \"{}\" is too large", s));
        check_range(static_cast<std::int64_t>(*bytes), fmt::format("size \"{}\"", s));
        return *bytes;
      }
      case KeyType::Integer: {
        if (!node.is_integer()) fail(line, key, fmt::format("expected an integer, got a {}", type_name(node)));
        auto v = node.as_integer()->get();
        check_range(v, std::to_string(v));
        return v;
      }
      case KeyType::Boolean:
        if (!node.is_boolean()) fail(line, key, fmt::format("expected true or false, got a {}", type_name(node)));
        return node.as_boolean()->get();
    }
    fail(line, key, "unsupported key type");
  }

  static std::string type_name(const toml::node& node) {
    switch (node.type()) {
      case toml::node_type::string: return "string";
      case toml::node_type::integer: return "integer";
      case toml::node_type::floating_point: return "float";
      case toml::node_type::boolean: return "boolean";
      case toml::node_type::array: return "array";
      case toml::node_type::table: return "table";
      default: return "date/time";
    }
  }

  // Checks one [section] (or one element of a [[section]] array) and fills defaults.
  Section check_section(const Schema& schema, std::string_view section_name, const toml::table& table,
                        int section_line) const {
    Section out;
    for (auto&& [key, node] : table) {
      const KeySpec* spec = find(schema, section_name, key.str());
      if (!spec)
        fail(static_cast<int>(key.source().begin.line), fmt::format("{}.{}", section_name, key.str()),
             fmt::format("unknown key in a {} configuration", schema.kind));
      out.emplace(std::string(key.str()), convert(*spec, node));
    }
    for (const auto& spec : schema.keys) {
      if (spec.section != section_name || out.contains(spec.name)) continue;
      if (spec.default_toml.empty()) fail(section_line, dotted(spec), "required key is missing");
      out.emplace(std::string(spec.name), default_value(spec));
    }
    return out;
  }

  static const KeySpec* find(const Schema& schema, std::string_view section, std::string_view name) {
    for (const auto& spec : schema.keys)
      if (spec.section == section && spec.name == name) return &spec;
    return nullptr;
  }

  static Value default_value(const KeySpec& spec) {
    auto snippet = fmt::format("v = {}", spec.default_toml);
    auto table = toml::parse(std::string_view(snippet), std::string_view("<default>"));
    return Checker("<built-in default>").convert(spec, *table.get("v"));
  }

 private:
  std::string file_;
};

bool is_array_section(const Schema& schema, std::string_view name) {
  return std::find(schema.array_sections.begin(), schema.array_sections.end(), name) != schema.array_sections.end();
}

bool has_section(const Schema& schema, std::string_view name) {
  return std::any_of(schema.keys.begin(), schema.keys.end(), [&](const KeySpec& k) { return k.section == name; });
}

}  // namespace

ConfigError::ConfigError(std::string file, int line, std::string key, const std::string& message)
    : std::runtime_error(fmt::format("{}:{}: {}{}{}", file, line, key, key.empty() ? "" : ": ", message)),
      file_(std::move(file)),
      line_(line),
      key_(std::move(key)) {}

const Section& Document::section(std::string_view name) const { return sections_.find(name)->second; }

const std::vector<Section>& Document::array(std::string_view name) const { return arrays_.find(name)->second; }

int Document::array_line(std::string_view name, std::size_t index) const {
  return array_lines_.find(name)->second.at(index);
}

Document load_string(std::string_view toml_text, const std::string& name_for_errors, const Schema& schema) {
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string_view(name_for_errors));
  } catch (const toml::parse_error& e) {
    throw ConfigError(name_for_errors, static_cast<int>(e.source().begin.line), "",
                      fmt::format("TOML syntax error: {}", e.description()));
  }
  Checker checker(name_for_errors);
  Document doc;
  doc.file_ = name_for_errors;
  for (auto&& [key, node] : root) {
    const int line = static_cast<int>(key.source().begin.line);
    std::string name(key.str());
    if (!has_section(schema, name))
      checker.fail(line, name, fmt::format("unknown section or key in a {} configuration", schema.kind));
    if (is_array_section(schema, name)) {
      if (!node.is_array_of_tables())
        checker.fail(line, name, fmt::format("expected one or more [[{}]] tables", name));
      auto& items = doc.arrays_[name];
      for (const auto& element : *node.as_array()) {
        items.push_back(checker.check_section(schema, name, *element.as_table(), line_of(element)));
        doc.array_lines_[name].push_back(line_of(element));
      }
    } else {
      if (!node.is_table()) checker.fail(line, name, fmt::format("expected a [{}] table", name));
      doc.sections_[name] = checker.check_section(schema, name, *node.as_table(), line);
    }
  }
  for (const auto& spec : schema.keys) {
    if (is_array_section(schema, spec.section)) {
      doc.arrays_[std::string(spec.section)];
      doc.array_lines_[std::string(spec.section)];
    } else if (!doc.sections_.contains(spec.section)) {
      doc.sections_[std::string(spec.section)] = checker.check_section(schema, spec.section, toml::table{}, 1);
    }
  }
  return doc;
}

Document load(const std::string& path, const Schema& schema) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) throw ConfigError(path, 0, "", "cannot open the file");
  std::string text;
  char buf[8192];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) text.append(buf, n);
  std::fclose(f);
  return load_string(text, path, schema);
}

}  // namespace pga::config
