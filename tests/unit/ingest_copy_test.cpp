// COPY text encoding: escaping survives a decode exactly as PostgreSQL reads it, and each line
// of a family's COPY carries its sample's time and owner before the encoded row.
#include <doctest/doctest.h>

#include <optional>

#include "pganalytics/server/ingest.hpp"

using namespace pga::server::ingest;

namespace {

// PostgreSQL's reading of one COPY text field (the escapes the encoder produces, and \N).
std::optional<std::string> decode_field(std::string_view field) {
  if (field == "\\N") return std::nullopt;
  std::string out;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\') {
      out += field[i];
      continue;
    }
    switch (field[++i]) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      default: out += field[i];
    }
  }
  return out;
}

std::string escaped(std::string_view text) {
  std::string out;
  append_copy_escaped(out, text);
  return out;
}

}  // namespace

TEST_CASE("COPY escaping covers backslash, tab, newline and carriage return") {
  CHECK(escaped("plain") == "plain");
  CHECK(escaped("a\\b") == "a\\\\b");
  CHECK(escaped("a\tb\nc\rd") == "a\\tb\\nc\\rd");
  CHECK(escaped("\\N") == "\\\\N");
  CHECK(escaped("\\.") == "\\\\.");
}

TEST_CASE("escaped text decodes back to itself, never to NULL, and never splits a line or a field") {
  for (std::string_view text : {"", "app", "\\N", "\\", "tab\there", "multi\nline\r\n", "\\t literally",
                                "é ü 漢字 🐘", "ends with backslash\\", "\\.", "a\x01\x7f"}) {
    const auto field = escaped(text);
    CHECK(field.find('\t') == std::string::npos);
    CHECK(field.find('\n') == std::string::npos);
    CHECK(field.find('\r') == std::string::npos);
    CHECK_MESSAGE(decode_field(field) == std::optional<std::string>(std::string(text)), text);
  }
  CHECK(decode_field(kCopyNull) == std::nullopt);
}

TEST_CASE("a family's COPY lines start with the sample time and its owner") {
  const auto* sysstat = pga::metrics::find_family("sysstat");
  Batch batch;
  batch.families.push_back({sysstat, {0}});
  batch.families.push_back({pga::metrics::find_family("pg_stats_database"), {0}});
  const auto t0 = *parse_rfc3339("2026-11-24T12:00:00Z");
  batch.samples.push_back({0, "", t0, "1.5\n2.5\n", 2, {}});
  batch.samples.push_back({1, "main", t0, "app\n", 1, {"app"}});
  batch.samples.push_back({0, "", t0 + 1'000'000, "\\N\n", 1, {}});
  const std::vector<std::int64_t> owners{7, 42, 7};
  std::string first = "earlier lines\n";
  append_copy_data(first, batch, 0, owners);
  CHECK(first ==
        "earlier lines\n"
        "2026-11-24 12:00:00.000000+00\t7\t1.5\n"
        "2026-11-24 12:00:00.000000+00\t7\t2.5\n"
        "2026-11-24 12:00:01.000000+00\t7\t\\N\n");
  std::string second;
  append_copy_data(second, batch, 1, owners);
  CHECK(second == "2026-11-24 12:00:00.000000+00\t42\tapp\n");
  CHECK(batch.row_count() == 4);
}
