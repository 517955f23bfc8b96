// Route table, request-target parsing and the error contract: 404/405/parameters, the exact
// JSON error shape, and that a 500 never shows the client what went wrong inside.
#include "pganalytics/net/router.hpp"

#include <doctest/doctest.h>

#include <stdexcept>

namespace pga::net {
namespace {

Handler answer() {
  return [](Request&) -> boost::asio::awaitable<Response> { co_return Response{}; };
}

Request request(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  parse_target(target, r);
  return r;
}

int status_of(const Router& router, Request r) {
  try {
    router.match(r);
    return 200;
  } catch (const ApiError& e) {
    return e.status();
  }
}

Router agent_routes() {
  Router router;
  router.add("POST", "/api/v1/collectors/register", answer());
  router.add("GET", "/api/v1/collectors/{id}", answer());
  router.add("DELETE", "/api/v1/collectors/{id}", answer());
  router.add("POST", "/api/v1/collectors/{collector_id}/certificate", answer());
  router.add("GET", "/api/v1/config/{collector_id}", answer());
  return router;
}

TEST_CASE("net router: path parameters are decoded and the pattern becomes the route label") {
  auto router = agent_routes();
  auto r = request("GET", "/api/v1/config/0f8c%2Fx%20y?since=1");
  router.match(r);
  CHECK(r.route == "/api/v1/config/{collector_id}");
  CHECK(r.path_param("collector_id") == "0f8c/x y");
  CHECK(r.query_param("since") == "1");
  CHECK_THROWS_AS(r.path_param("id"), std::logic_error);
}

TEST_CASE("net router: unknown path is 404 not_found, with the exact error body") {
  auto router = agent_routes();
  auto r = request("GET", "/api/v1/nope");
  try {
    router.match(r);
    FAIL("expected 404");
  } catch (...) {
    auto response = to_response(std::current_exception());
    CHECK(response.status == 404);
    CHECK(response.content_type == "application/json");
    CHECK(response.body == R"({"error":{"code":"not_found","message":"no such resource"}})");
  }
  CHECK(status_of(router, request("GET", "/api/v1/collectors/a/b")) == 404);
  CHECK(status_of(router, request("GET", "/api/v1/config/")) == 200);  // empty id is the handler's call
  CHECK(status_of(router, request("GET", "/api/v1/config")) == 404);
}

TEST_CASE("net router: known path with another method is 405 with Allow") {
  auto router = agent_routes();
  auto r = request("PUT", "/api/v1/collectors/abc");
  try {
    router.match(r);
    FAIL("expected 405");
  } catch (...) {
    auto response = to_response(std::current_exception());
    CHECK(response.status == 405);
    CHECK(find_header(response.headers, "allow") == "DELETE, GET");
    CHECK(response.body.find(R"("code":"method_not_allowed")") != std::string::npos);
  }
  CHECK(r.route == "/api/v1/collectors/{id}");  // so 405s are still labelled by pattern
}

TEST_CASE("net router: a literal segment beats a parameter") {
  auto router = agent_routes();
  auto enrol = request("POST", "/api/v1/collectors/register");
  router.match(enrol);
  CHECK(enrol.route == "/api/v1/collectors/register");
  auto lookup = request("GET", "/api/v1/collectors/register");
  router.match(lookup);
  CHECK(lookup.route == "/api/v1/collectors/{id}");
  CHECK(lookup.path_param("id") == "register");
}

TEST_CASE("net router: malformed or duplicate routes fail at start-up") {
  Router router;
  CHECK_THROWS_AS(router.add("GET", "api/v1", answer()), std::invalid_argument);
  CHECK_THROWS_AS(router.add("GET", "/a/{}", answer()), std::invalid_argument);
  CHECK_THROWS_AS(router.add("GET", "/a/{x}/{x}", answer()), std::invalid_argument);
  CHECK_THROWS_AS(router.add("GET", "/a/x{y}", answer()), std::invalid_argument);
  router.add("GET", "/a/{x}", answer());
  CHECK_THROWS_AS(router.add("GET", "/a/{x}", answer()), std::invalid_argument);
}

TEST_CASE("net http: targets, query decoding and bad percent-encoding") {
  auto r = request("GET", "/api/v1/servers/7/metrics?family=pg_wal&from=2026-01-01T00%3A00%3A00Z&rate&x=a+b");
  CHECK(r.path == "/api/v1/servers/7/metrics");
  CHECK(r.query_param("family") == "pg_wal");
  CHECK(r.query_param("from") == "2026-01-01T00:00:00Z");
  CHECK(r.query_param("rate") == "");
  CHECK(r.query_param("x") == "a b");
  CHECK_FALSE(r.query_param("to").has_value());
  Request bad;
  CHECK_THROWS_AS(parse_target("http://elsewhere/", bad), ApiError);
  CHECK_THROWS_AS(parse_target("/a%zz", bad), ApiError);
}

TEST_CASE("net http: error bodies are exactly the contract's shape, escaped") {
  CHECK(error_body("bad_gzip", R"(say "hi"\)") == R"({"error":{"code":"bad_gzip","message":"say \"hi\"\\"}})");
  auto response = to_response(std::make_exception_ptr(
      ApiError(503, "overloaded", "try later").with_header("Retry-After", "5")));
  CHECK(response.status == 503);
  CHECK(find_header(response.headers, "retry-after") == "5");
}

TEST_CASE("net http: an unexpected exception is a generic 500 that reveals nothing") {
  for (auto error : {std::make_exception_ptr(std::runtime_error("password=hunter2 host=db.internal")),
                     std::make_exception_ptr(42), std::exception_ptr()}) {
    auto response = to_response(error, "GET /fail");
    CHECK(response.status == 500);
    CHECK(response.body == R"({"error":{"code":"internal_error","message":"internal server error"}})");
  }
}

}  // namespace
}  // namespace pga::net
