// Durations and sizes: the strict grammar of configuration values.
#include <doctest/doctest.h>

#include "pganalytics/common/units.hpp"

using namespace pga;

TEST_CASE("durations parse with one unit and no decoration") {
  CHECK(parse_duration("500ms") == Duration{500});
  CHECK(parse_duration("60s") == Duration{60'000});
  CHECK(parse_duration("5m") == Duration{300'000});
  CHECK(parse_duration("2h") == Duration{7'200'000});
  CHECK(parse_duration("7d") == Duration{604'800'000});
  CHECK(parse_duration("0s") == Duration{0});
  for (const char* bad : {"", "s", "60", "60 s", " 60s", "-5s", "+5s", "1.5s", "5sec", "5S", "5ms5", "1y",
                          "99999999999999999999d", "9999999999999999d"})
    CHECK_MESSAGE(!parse_duration(bad), bad);
}

TEST_CASE("durations print in their largest exact unit") {
  CHECK(format_duration(Duration{90'000}) == "90s");
  CHECK(format_duration(Duration{3'600'000}) == "1h");
  CHECK(format_duration(Duration{1'500}) == "1500ms");
  CHECK(format_duration(Duration{0}) == "0ms");
}

TEST_CASE("sizes parse binary and decimal units") {
  CHECK(parse_size("512MiB") == 512ULL << 20);
  CHECK(parse_size("1GiB") == 1ULL << 30);
  CHECK(parse_size("4KiB") == 4096);
  CHECK(parse_size("10MB") == 10'000'000);
  CHECK(parse_size("1kB") == 1000);
  CHECK(parse_size("100B") == 100);
  for (const char* bad : {"", "512", "512mib", "512 MiB", "-1MiB", "1.5GiB", "99999999999TiB"})
    CHECK_MESSAGE(!parse_size(bad), bad);
  CHECK(format_size(512ULL << 20) == "512MiB");
  CHECK(format_size(1000) == "1000B");
}
