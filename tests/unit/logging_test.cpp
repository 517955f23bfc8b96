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

TEST_CASE("text log lines cannot be forged: control characters, escapes and bad UTF-8 are shown") {
  using pga::log::escape_text;
  CHECK(escape_text("plain name é ✓") == "plain name é ✓");
  CHECK(escape_text("db\n2030-01-01T00:00:00Z error forged") == "db\\n2030-01-01T00:00:00Z error forged");
  CHECK(escape_text("a\r\tb\\c") == "a\\r\\tb\\\\c");
  CHECK(escape_text("red\x1b[31m bell\a nul") == "red\\x1b[31m bell\\x07 nul");
  CHECK(escape_text(std::string("a\0b", 3)) == "a\\x00b");
  CHECK(escape_text("\x7f") == "\\x7f");
  CHECK(escape_text("\xc2\x9b" "2J") == "\\u{009b}2J");                  // C1 CSI
  CHECK(escape_text("x\xe2\x80\xaey") == "x\\u{202e}y");                  // right-to-left override
  CHECK(escape_text("line\xe2\x80\xa8sep") == "line\\u{2028}sep");
  CHECK(escape_text("bad \xff\xc0\xaf utf8") == "bad \\xff\\xc0\\xaf utf8");
  CHECK(escape_text("cut \xe2\x9c") == "cut \\xe2\\x9c");
  CHECK(pga::log::valid_utf8_or_escaped("ok ✓\n") == "ok ✓\n");         // JSON escapes the newline itself
  CHECK(pga::log::valid_utf8_or_escaped("bad \xff") == "bad \\xff");
}
