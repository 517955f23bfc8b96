// The access rules that need no server: the password and user name policy, the sign-in budget
// key of an address, the audit throttle, the hashing pool's bound, roles, and the route table's
// start-up check.
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json/parse.hpp>

#include "pganalytics/net/address_key.hpp"
#include "pganalytics/security/password.hpp"
#include "pganalytics/security/password_policy.hpp"
#include "pganalytics/server/audit_throttle.hpp"
#include "pganalytics/server/login_limiter.hpp"
#include "pganalytics/server/password_hasher.hpp"
#include "pganalytics/server/routes.hpp"

using namespace pga;
using namespace pga::server;

TEST_CASE("password policy: length in characters, not the user name, not a breached password") {
  CHECK(security::password_problem("alice", "correct horse battery") == std::nullopt);
  CHECK(security::password_problem("alice", "short pass") == "the password needs at least 12 characters");
  // 12 characters, 24 bytes: counted as characters.
  CHECK(security::password_problem("alice", "ééééééééééé1") == std::nullopt);
  CHECK(security::password_problem("alice", "éééééééééé1").has_value());
  CHECK(security::password_problem("administrator", "AdministraTOR").value() == "the password may not be the user name");
  CHECK(security::password_problem("bob", "Password1234").value().find("breaches") != std::string::npos);
  CHECK(security::password_problem("bob", "qwerty123456").has_value());
  CHECK(security::password_problem("bob", std::string(1025, 'x')).has_value());
  CHECK(security::password_problem("bob", std::string("correct horse\0battery", 21)).has_value());
}

TEST_CASE("user names: 1 to 64 bytes, no control characters, no outer spaces") {
  CHECK_FALSE(security::username_problem("alice"));
  CHECK_FALSE(security::username_problem("Zoë Dupont"));
  CHECK(security::username_problem(""));
  CHECK(security::username_problem(std::string(65, 'a')));
  CHECK(security::username_problem("bad\nname"));
  CHECK(security::username_problem(std::string("admin\0x", 7)));
  CHECK(security::username_problem(" alice"));
}

TEST_CASE("sign-in budgets are kept per IPv4 address and per IPv6 /64") {
  CHECK(net::address_key(std::string_view("192.0.2.7")) == "192.0.2.7");
  CHECK(net::address_key(std::string_view("::ffff:192.0.2.7")) == "192.0.2.7");
  CHECK(net::address_key(std::string_view("2001:db8:1:2:aaaa:bbbb:cccc:dddd")) == "2001:db8:1:2::/64");
  CHECK(net::address_key(std::string_view("2001:db8:1:2::1")) == net::address_key(std::string_view("2001:db8:1:2:ffff::9")));
  CHECK(net::address_key(std::string_view("not an address")) == "not an address");
}

TEST_CASE("the audit throttle writes the first events of a window and counts the rest") {
  AuditThrottle throttle(std::chrono::seconds(60));
  const auto t0 = AuditThrottle::Clock::now();
  const repo::AuditEntry failure{"anonymous", "collector.register", "db01", false, "192.0.2.7"};
  int written = 0;
  for (int i = 0; i < 1000; ++i) written += throttle.admit(failure, t0);
  CHECK(written == static_cast<int>(AuditThrottle::kWrittenPerWindow));
  // Another address has a window of its own.
  auto other = failure;
  other.remote_addr = "192.0.2.8";
  CHECK(throttle.admit(other, t0));
  CHECK(throttle.take_summaries(false, t0 + std::chrono::seconds(30)).empty());
  const auto summaries = throttle.take_summaries(false, t0 + std::chrono::seconds(61));
  REQUIRE(summaries.size() == 1);
  CHECK(summaries[0].count == 1000 - static_cast<int>(AuditThrottle::kWrittenPerWindow));
  CHECK(summaries[0].action == "collector.register");
  CHECK(summaries[0].remote_addr == "192.0.2.7");
  CHECK(boost::json::parse(summaries[0].detail_json).at("aggregated").as_bool());
  // The window restarts: the next event is written again.
  CHECK(throttle.admit(failure, t0 + std::chrono::seconds(62)));
  CHECK(throttle.take_summaries(true, t0 + std::chrono::seconds(62)).empty());  // nothing counted in it
}

TEST_CASE("past its key bound the throttle folds new keys into one per action, still counting") {
  AuditThrottle throttle;
  const auto now = AuditThrottle::Clock::now();
  repo::AuditEntry entry{"anonymous", "auth.login", "", false, ""};
  for (std::size_t i = 0; i < AuditThrottle::kMaxKeys; ++i) {
    entry.remote_addr = "10.0." + std::to_string(i / 256) + "." + std::to_string(i % 256);
    throttle.admit(entry, now);
  }
  entry.remote_addr = "203.0.113.1";
  CHECK_FALSE(throttle.admit(entry, now));
  entry.remote_addr = "203.0.113.2";
  CHECK_FALSE(throttle.admit(entry, now));
  const auto summaries = throttle.take_summaries(true, now);
  REQUIRE(summaries.size() == 1);
  CHECK(summaries[0].remote_addr == "(many)");
  CHECK(summaries[0].count == 2);
}

TEST_CASE("roles: an API token acts with the lower of its role and its owner's") {
  CHECK(lower_role(Role::Admin, Role::Viewer) == Role::Viewer);
  CHECK(lower_role(Role::User, Role::Admin) == Role::User);
  CHECK(parse_role("user") == Role::User);
  CHECK_FALSE(parse_role("root"));
}

namespace {
boost::asio::awaitable<net::Response> no_op(ServerContext&, net::Request&, const Caller&) { co_return net::Response{}; }

net::Router router_for(std::span<const RouteSpec> table) {
  net::Router router;
  for (const auto& spec : table)
    router.add(std::string(spec.method), spec.pattern,
               [](net::Request&) -> boost::asio::awaitable<net::Response> { co_return net::Response{}; });
  return router;
}
}  // namespace

TEST_CASE("the route table's start-up check") {
  const auto table = route_table();
  CHECK_NOTHROW(check_route_table(table, router_for(table)));

  // A route in the router that the table does not declare stops the server.
  auto router = router_for(table);
  router.add("GET", "/api/v1/undeclared", [](net::Request&) -> boost::asio::awaitable<net::Response> {
    co_return net::Response{};
  });
  CHECK_THROWS_WITH_AS(check_route_table(table, router), doctest::Contains("/api/v1/undeclared"), std::logic_error);

  // A scoped route must name the server in its path, and session_only needs a user route.
  const RouteSpec unscoped[] = {{"GET", "/api/v1/things", Access{Audience::Viewer, ServerScope::Server}, no_op}};
  CHECK_THROWS_AS(check_route_table(unscoped, router_for(unscoped)), std::logic_error);
  const RouteSpec agent_session[] = {{"POST", "/api/v1/x", Access{Audience::Agent, ServerScope::None, true}, no_op}};
  CHECK_THROWS_AS(check_route_table(agent_session, router_for(agent_session)), std::logic_error);
  const RouteSpec no_handler[] = {{"GET", "/api/v1/y", Access{Audience::Public}, nullptr}};
  CHECK_THROWS_AS(check_route_table(no_handler, router_for(no_handler)), std::logic_error);
}

TEST_CASE("the table printed for tests lists every route with its access") {
  const auto printed = boost::json::parse(route_table_json()).as_array();
  REQUIRE(printed.size() == route_table().size());
  for (std::size_t i = 0; i < printed.size(); ++i) {
    const auto& row = printed[i].as_object();
    CHECK(row.at("method").as_string() == route_table()[i].method);
    CHECK(row.at("pattern").as_string() == route_table()[i].pattern);
    CHECK(row.at("audience").as_string() == to_string(route_table()[i].access.audience));
  }
  // What CONTRACT §10 says, as the table declares it.
  auto access_of = [&](std::string_view method, std::string_view pattern) {
    for (const auto& spec : route_table())
      if (spec.method == method && spec.pattern == pattern) return spec.access;
    FAIL("no route " << method << " " << pattern);
    return Access{Audience::Public};
  };
  CHECK(access_of("GET", "/api/v1/users").audience == Audience::Admin);
  CHECK(access_of("GET", "/api/v1/audit/verify").audience == Audience::Admin);
  CHECK(access_of("PUT", "/api/v1/collectors/{id}/config").audience == Audience::User);
  CHECK(access_of("PUT", "/api/v1/collectors/{id}/config").scope == ServerScope::Collector);
  CHECK(access_of("POST", "/api/v1/api-tokens").session_only);
  CHECK(access_of("GET", "/api/v1/me").audience == Audience::Viewer);
}

namespace {
boost::asio::awaitable<void> one_check(PasswordHasher& hasher, std::string hash, int& ok, int& refused) {
  try {
    if (co_await hasher.verify("correct horse battery", hash)) ++ok;
  } catch (const net::ApiError& e) {
    if (e.status() == 429 && e.code() == "too_many_sign_ins") ++refused;
  }
}
}  // namespace

TEST_CASE("the password hashing pool bounds its queue: checks beyond it answer 429 at once") {
  PasswordHasher hasher(1, 2);
  const auto hash = security::argon2id_hash_encoded("correct horse battery");
  boost::asio::io_context io;
  int ok = 0, refused = 0;
  for (int i = 0; i < 6; ++i) boost::asio::co_spawn(io, one_check(hasher, hash, ok, refused), boost::asio::detached);
  io.run();
  CHECK(ok == 2);
  CHECK(refused == 4);
  CHECK(hasher.verifications() == 2);
  CHECK(hasher.refused() == 4);
  CHECK(hasher.pending() == 0);
}
