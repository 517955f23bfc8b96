// conf/server.toml and conf/agent.toml must show every declared key at its default, each under a
// one-line comment, and nothing else: this test fails when they and the key tables disagree.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "pganalytics/common/agent_config.hpp"
#include "pganalytics/common/server_config.hpp"

using namespace pga;

namespace {

std::vector<std::string> read_lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

const toml::node* find_key(const toml::table& root, const config::Schema& schema, const config::KeySpec& key) {
  auto section = root.get(key.section);
  if (!section) return nullptr;
  const bool is_array = std::find(schema.array_sections.begin(), schema.array_sections.end(), key.section) !=
                        schema.array_sections.end();
  if (is_array) {
    auto* array = section->as_array();
    if (!array || array->empty()) return nullptr;
    return array->get(0)->as_table()->get(key.name);
  }
  return section->as_table() ? section->as_table()->get(key.name) : nullptr;
}

void check_file_matches_schema(const std::string& path, const config::Schema& schema) {
  CAPTURE(path);
  config::load(path, schema);  // no unknown keys, every value valid
  auto root = toml::parse_file(path);
  auto lines = read_lines(path);
  for (const auto& key : schema.keys) {
    CAPTURE(key.section);
    CAPTURE(key.name);
    const toml::node* node = find_key(root, schema, key);
    REQUIRE_MESSAGE(node, "key missing from the shipped file");
    const auto line = static_cast<std::size_t>(node->source().begin.line);
    REQUIRE(line >= 2);
    CHECK(lines[line - 2] == "# " + std::string(key.description));
    if (!key.default_toml.empty()) CHECK(lines[line - 1] == std::string(key.name) + " = " + std::string(key.default_toml));
  }
}

}  // namespace

TEST_CASE("conf/server.toml shows every server key at its default with its comment") {
  check_file_matches_schema(PGA_SOURCE_DIR "/conf/server.toml", server_schema());
}

TEST_CASE("conf/agent.toml shows every agent key at its default with its comment") {
  check_file_matches_schema(PGA_SOURCE_DIR "/conf/agent.toml", agent_schema());
}
