// Who may connect, over plain TCP on 127.0.0.1: idle connections make room near the cap, one
// address gets its share, addresses are keyed per host, and the cap follows the open-file limit.
#include "pganalytics/net/address_key.hpp"
#include "pganalytics/net/server_session.hpp"
#include "net_test_support.hpp"

#include <sys/resource.h>

namespace pga::net::testing {
namespace {

TEST_CASE("net connections: near the cap the oldest idle connection makes room; busy ones do not") {
  auto limits = fast_limits();
  limits.max_connections = 3;  // "near" is one short of it here
  PlainServer s(limits);
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto a = co_await RawConnection::open(s.server.port());
    co_await a.send(get_request("/slow/600"));  // a is busy
    co_await sleep_for(50ms);
    auto b = co_await RawConnection::open(s.server.port());
    co_await b.send(get_request("/whoami"));
    co_await b.read_response();  // b is idle now
    auto c = co_await RawConnection::open(s.server.port());
    bool b_evicted = co_await b.closed_within(500ms);
    CHECK(b_evicted);
    co_await c.send(get_request("/slow/400"));
    co_await sleep_for(50ms);  // the server has read it: c is busy
    auto d = co_await RawConnection::open(s.server.port());  // near the cap, nobody idle: admitted
    co_await d.send(get_request("/slow/400"));
    co_await sleep_for(50ms);
    auto e = co_await RawConnection::open(s.server.port());  // at the cap, nobody idle: refused
    bool e_refused = co_await e.closed_within(300ms);
    CHECK(e_refused);
    CHECK(s.server.stats().evicted == 1);
    CHECK(s.server.stats().refused == 1);
    auto slow = co_await a.read_response();
    CHECK(slow.body() == "slow");
    auto answered = co_await d.read_response();
    CHECK(answered.result_int() == 200);
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net connections: one address gets at most its share; its own oldest idle connection makes room") {
  auto limits = fast_limits();
  limits.max_connections = 100;
  limits.max_connections_per_address = 3;
  PlainServer s(limits);
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    std::vector<RawConnection> idle;
    for (int i = 0; i < 3; ++i) {
      idle.push_back(co_await RawConnection::open(s.server.port()));
      co_await idle.back().send(get_request("/whoami"));
      co_await idle.back().read_response();
    }
    auto fourth = co_await RawConnection::open(s.server.port());
    co_await fourth.send(get_request("/whoami"));
    auto admitted = co_await fourth.read_response();
    CHECK(admitted.result_int() == 200);
    bool oldest_closed = co_await idle[0].closed_within(500ms);
    CHECK(oldest_closed);
    CHECK(s.server.stats().open == 3);
    co_await idle[1].send(get_request("/whoami"));  // the next oldest was left alone
    auto still_served = co_await idle[1].read_response();
    CHECK(still_served.result_int() == 200);
    // All three busy: a fourth from the same address is refused.
    for (auto* c : {&idle[1], &idle[2], &fourth}) co_await c->send(get_request("/slow/500"));
    co_await sleep_for(50ms);
    auto refused = co_await RawConnection::open(s.server.port());
    bool refused_closed = co_await refused.closed_within(300ms);
    CHECK(refused_closed);
    CHECK(s.server.stats().refused == 1);
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net connections: connection keys: IPv4, IPv4-mapped, and the /64 of IPv6") {
  using net::address_key;
  CHECK(address_key(asio::ip::make_address("192.0.2.7")) == "192.0.2.7");
  CHECK(address_key(asio::ip::make_address("::ffff:192.0.2.7")) == "192.0.2.7");
  CHECK(address_key(asio::ip::make_address("2001:db8:1:2:aaaa::1")) == "2001:db8:1:2::/64");
  CHECK(address_key(asio::ip::make_address("2001:db8:1:2:bbbb::9")) == "2001:db8:1:2::/64");
}

TEST_CASE("net connections: the open-file limit is raised and sets the connection capacity") {
  rlimit before{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &before) == 0);
  const auto capacity = connection_capacity(100, 1'000'000);
  rlimit after{};
  REQUIRE(getrlimit(RLIMIT_NOFILE, &after) == 0);
  CHECK(after.rlim_cur == after.rlim_max);
  CHECK(capacity == after.rlim_cur - 100);
  CHECK(connection_capacity(100, 500) == std::min<std::size_t>(500, after.rlim_cur - 100));
}

}  // namespace
}  // namespace pga::net::testing
