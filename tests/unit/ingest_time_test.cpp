// RFC 3339 parsing and the UTC text the server hands to PostgreSQL: fractions, offsets, leap
// years and seconds, and every malformed or impossible date refused.
#include <doctest/doctest.h>

#include "pganalytics/server/ingest.hpp"

using namespace pga::server::ingest;

TEST_CASE("RFC 3339 date-times parse to microseconds since the epoch") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0);
  CHECK(parse_rfc3339("2000-01-01T00:00:00Z") == 946'684'800'000'000);
  CHECK(parse_rfc3339("1969-12-31T23:59:59Z") == -1'000'000);
  CHECK(parse_rfc3339("2024-02-29T12:00:00Z").has_value());
  CHECK(parse_rfc3339("2026-11-24t12:00:00z") == parse_rfc3339("2026-11-24T12:00:00Z"));
  CHECK(parse_rfc3339("2026-11-24 12:00:00Z") == parse_rfc3339("2026-11-24T12:00:00Z"));
}

TEST_CASE("fractions keep microseconds and truncate the rest") {
  const auto whole = *parse_rfc3339("2026-11-24T12:00:00Z");
  CHECK(parse_rfc3339("2026-11-24T12:00:00.1Z") == whole + 100'000);
  CHECK(parse_rfc3339("2026-11-24T12:00:00.123Z") == whole + 123'000);
  CHECK(parse_rfc3339("2026-11-24T12:00:00.123456Z") == whole + 123'456);
  CHECK(parse_rfc3339("2026-11-24T12:00:00.123456789Z") == whole + 123'456);
  CHECK(parse_rfc3339("2026-11-24T12:00:00.000000001Z") == whole);
}

TEST_CASE("offsets move the instant to UTC") {
  CHECK(parse_rfc3339("2026-11-24T12:00:00+02:00") == parse_rfc3339("2026-11-24T10:00:00Z"));
  CHECK(parse_rfc3339("2026-11-24T12:00:00-05:30") == parse_rfc3339("2026-11-24T17:30:00Z"));
  CHECK(parse_rfc3339("2026-11-24T12:00:00.5+00:00") == parse_rfc3339("2026-11-24T12:00:00.500Z"));
  CHECK(parse_rfc3339("2026-12-31T23:30:00-01:00") == parse_rfc3339("2027-01-01T00:30:00Z"));
}

TEST_CASE("a leap second counts as the next minute's first, as in PostgreSQL") {
  CHECK(parse_rfc3339("2016-12-31T23:59:60Z") == parse_rfc3339("2017-01-01T00:00:00Z"));
}

TEST_CASE("malformed and impossible date-times are refused") {
  for (const char* bad :
       {"", "2026-11-24", "2026-11-24T12:00:00", "2026-11-24T12:00Z", "2026-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z", "2026-04-31T00:00:00Z", "2026-11-00T00:00:00Z", "2026-11-24T24:00:00Z",
        "2026-11-24T12:60:00Z", "2026-11-24T12:00:61Z", "2026-11-24T12:00:00.Z", "2026-11-24T12:00:00+2:00",
        "2026-11-24T12:00:00+24:00", "2026-11-24T12:00:00+02:60", "2026-11-24T12:00:00+0200", "2026-11-24T12:00:00Zx",
        "2026-11-24T12:00:00+02:00 ", " 2026-11-24T12:00:00Z", "2026/11/24T12:00:00Z", "2026-11-24X12:00:00Z",
        "26-11-24T12:00:00Z", "+2026-11-24T12:00:00Z", "2026-1a-24T12:00:00Z", "0000-06-01T00:00:00Z",
        "0001-01-01T00:30:00+01:00", "9999-12-31T23:30:00-01:00", "2026-11-24T12:00:00.12a3Z"})
    CHECK_MESSAGE(!parse_rfc3339(bad), bad);
  CHECK(parse_rfc3339("0001-01-01T00:00:00Z").has_value());
  CHECK(parse_rfc3339("9999-12-31T23:59:59.999999Z").has_value());
}

TEST_CASE("timestamps print as UTC text PostgreSQL reads back exactly") {
  CHECK(format_timestamp(0) == "1970-01-01 00:00:00.000000+00");
  CHECK(format_timestamp(-1) == "1969-12-31 23:59:59.999999+00");
  CHECK(format_timestamp(*parse_rfc3339("2026-11-24T12:34:56.789+01:00")) == "2026-11-24 11:34:56.789000+00");
  CHECK(format_timestamp(*parse_rfc3339("0001-01-01T00:00:00Z")) == "0001-01-01 00:00:00.000000+00");
  CHECK(format_day(*parse_rfc3339("2026-11-24T23:59:59.999999Z")) == "2026-11-24");
  CHECK(format_day(*parse_rfc3339("2026-11-25T00:30:00+01:00")) == "2026-11-24");
  for (const char* text : {"2024-02-29T23:59:59.000001Z", "1999-12-31T00:00:00Z", "1900-03-01T06:07:08.09Z"}) {
    const auto us = *parse_rfc3339(text);
    auto printed = format_timestamp(us);
    printed[10] = 'T';
    CHECK_MESSAGE(parse_rfc3339(printed.substr(0, 26) + "Z") == us, text);
  }
}
