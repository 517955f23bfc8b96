// The exposition text our /metrics endpoints serve: exact lines for counters, gauges and
// cumulative histogram buckets, with label values escaped.
#include <doctest/doctest.h>

#include "pganalytics/common/prometheus.hpp"

using pga::prometheus::Registry;

TEST_CASE("counters, gauges and histograms render in the text exposition format") {
  Registry registry;
  auto& requests = registry.counter("pga_test_requests_total", "Requests.", {"route", "status"});
  requests.inc({"/a", "200"});
  requests.inc({"/a", "200"});
  requests.inc({"/b\"x", "500"}, 3);
  registry.gauge("pga_test_spool_bytes", "Spool size.", [] { return 42.0; });
  auto& latency = registry.histogram("pga_test_seconds", "Latency.", {"route"}, {0.1, 0.01, 1});
  latency.observe({"/a"}, 0.05);
  latency.observe({"/a"}, 2);
  const auto text = registry.render();
  CHECK(text.find("# TYPE pga_test_requests_total counter\n") != std::string::npos);
  CHECK(text.find("pga_test_requests_total{route=\"/a\",status=\"200\"} 2\n") != std::string::npos);
  CHECK(text.find("pga_test_requests_total{route=\"/b\\\"x\",status=\"500\"} 3\n") != std::string::npos);
  CHECK(text.find("pga_test_spool_bytes 42\n") != std::string::npos);
  CHECK(text.find("pga_test_seconds_bucket{route=\"/a\",le=\"0.01\"} 0\n") != std::string::npos);
  CHECK(text.find("pga_test_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n") != std::string::npos);
  CHECK(text.find("pga_test_seconds_bucket{route=\"/a\",le=\"1\"} 1\n") != std::string::npos);
  CHECK(text.find("pga_test_seconds_bucket{route=\"/a\",le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(text.find("pga_test_seconds_sum{route=\"/a\"} 2.05\n") != std::string::npos);
  CHECK(text.find("pga_test_seconds_count{route=\"/a\"} 2\n") != std::string::npos);
}
