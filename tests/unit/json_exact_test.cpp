// Doubles in a pushed batch are stored exactly as the agent wrote them, which Boost.JSON 1.81's
// own parser does not guarantee.
#include <doctest/doctest.h>

#include <boost/json.hpp>

#include <random>

#include "pganalytics/common/json_exact.hpp"

TEST_CASE("exact JSON: every double comes back bit for bit, the rest as boost::json::parse") {
  std::mt19937_64 random(42);
  std::uniform_real_distribution<double> figure(0, 1e7);
  int inexact = 0;
  for (int i = 0; i < 20000; ++i) {
    const double value = figure(random) / (i % 7 + 1);
    const auto text = boost::json::serialize(boost::json::array{value, -value * 1e-300});
    boost::system::error_code ec;
    const auto parsed = pga::parse_json_exact(text, ec);
    REQUIRE_FALSE(ec);
    if (parsed.as_array()[0].as_double() != value || parsed.as_array()[1].as_double() != -value * 1e-300) ++inexact;
  }
  CHECK(inexact == 0);

  const char* document = R"({"a": [1, -2, 18446744073709551615, 2.5e3, true, null, "x\"y"], "k": {"nested": "v"}})";
  boost::system::error_code ec;
  CHECK(pga::parse_json_exact(document, ec) == boost::json::parse(document));
  CHECK_FALSE(ec);
}

TEST_CASE("exact JSON: bad documents are errors, trailing data too") {
  boost::system::error_code ec;
  pga::parse_json_exact("{\"a\": ", ec);
  CHECK(ec);
  ec = {};
  pga::parse_json_exact("{} {}", ec);
  CHECK(ec);
  ec = {};
  pga::parse_json_exact("[1e999]", ec);
  CHECK_FALSE(ec);
}
