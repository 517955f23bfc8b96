// The logger never shows a password that a conninfo string or URL carries.
#include <doctest/doctest.h>

#include "pganalytics/common/log.hpp"

using pga::log::redact;

TEST_CASE("passwords are redacted from conninfo strings and URLs") {
  CHECK(redact("host=db password=hunter2 user=x") == "host=db password=*** user=x");
  CHECK(redact("host=db password='a b\\'c' user=x") == "host=db password=*** user=x");
  CHECK(redact("postgresql://app:hunter2@db:5432/x") == "postgresql://app:***@db:5432/x");
  CHECK(redact("postgresql://db/x?user=a&password=hunter2&sslmode=require") ==
        "postgresql://db/x?user=a&password=***&sslmode=require");
  CHECK(redact("postgresql://app@db/x") == "postgresql://app@db/x");
  CHECK(redact("host=db user=x") == "host=db user=x");
}

TEST_CASE("log levels parse by name") {
  CHECK(pga::log::parse_level("warn") == pga::log::Level::Warn);
  CHECK_FALSE(pga::log::parse_level("loud"));
}
