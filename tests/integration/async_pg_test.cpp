// The non-blocking libpq layer against a real PostgreSQL: parameters, SQL errors that leave the
// connection usable, COPY, timeouts, an exhausted pool and an unreachable server.
// (doctest assertions cannot sit inside coroutines with GCC 12, so each coroutine returns what
// it observed and the checks run after the event loop.)
#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <map>

#include "pganalytics/db/async_pg.hpp"
#include "test_database.hpp"

using namespace pga;
namespace asio = boost::asio;
using namespace std::chrono_literals;
using Observed = std::map<std::string, std::string>;

namespace {

Observed run(std::function<asio::awaitable<void>(asio::any_io_executor, Observed&)> fn) {
  Observed seen;
  asio::io_context io;
  auto future = asio::co_spawn(io, fn(io.get_executor(), seen), asio::use_future);
  io.run();
  future.get();
  return seen;
}

// Runs `body` and records what it threw: "unavailable", "error <sqlstate>" or "none".
template <typename Body>
asio::awaitable<std::string> outcome(Body body) {
  try {
    co_await body();
  } catch (const db::DbUnavailable&) {
    co_return "unavailable";
  } catch (const db::DbError& e) {
    co_return "error " + e.sqlstate();
  }
  co_return "none";
}

}  // namespace

asio::awaitable<void> scenario_pga_async_pg(asio::any_io_executor ex, std::string url, Observed& seen) {
    auto conn = co_await db::AsyncConnection::connect(ex, url, 5s);
    auto r = co_await conn->exec("SELECT $1::int + $2::int, $3::text IS NULL", 2, "40", std::nullopt);
    seen["sum"] = r.get(0, 0);
    seen["null"] = r.get(0, 1);
    seen["division"] = co_await outcome([&]() -> asio::awaitable<void> { co_await conn->query("SELECT 1/0"); });
    seen["healthy"] = conn->healthy() ? std::string("yes") : std::string("no");
    seen["after"] = (co_await conn->query("SELECT 'still here'")).get(0, 0);
}

asio::awaitable<void> scenario_pga_async_copy(asio::any_io_executor ex, std::string url, Observed& seen) {
    auto conn = co_await db::AsyncConnection::connect(ex, url, 5s);
    co_await conn->query("CREATE TABLE t (a int, b text)");
    std::string data;
    for (int i = 0; i < 100000; ++i) data += std::to_string(i) + "\trow " + std::to_string(i) + "\n";
    data += "100000\t\\N\n";
    co_await conn->copy_in("COPY t (a, b) FROM STDIN", data);
    auto r = co_await conn->query("SELECT count(*), sum(a), count(b) FROM t");
    seen["loaded"] = std::string(r.get(0, 0)) + " " + std::string(r.get(0, 1)) + " " + std::string(r.get(0, 2));
    seen["bad copy"] = co_await outcome(
        [&]() -> asio::awaitable<void> { co_await conn->copy_in("COPY t (a, b) FROM STDIN", "not-a-number\tx\n"); });
    seen["after bad copy"] = (co_await conn->query("SELECT count(*) FROM t")).get(0, 0);
}

asio::awaitable<void> scenario_pga_async_timeout(asio::any_io_executor ex, std::string url, Observed& seen) {
    auto conn = co_await db::AsyncConnection::connect(ex, url, 5s);
    seen["sleep"] = co_await outcome(
        [&]() -> asio::awaitable<void> { co_await conn->query("SELECT pg_sleep(5)", {}, 200ms); });
    seen["healthy"] = conn->healthy() ? std::string("yes") : std::string("no");
}

asio::awaitable<void> scenario_pga_async_pool(asio::any_io_executor ex, std::string url, Observed& seen) {
    auto pool = db::PgPool::create(ex, url, 2);
    {
      auto a = co_await pool->acquire();
      auto b = co_await pool->acquire();
      seen["third"] = co_await outcome([&]() -> asio::awaitable<void> { co_await pool->acquire(100ms); });
    }
    auto again = co_await pool->acquire(100ms);
    seen["reused"] = (co_await again->query("SELECT 1")).get(0, 0);
    auto dead = db::PgPool::create(ex, "postgresql://postgres@127.0.0.1:1/none", 1);
    seen["dead"] = co_await outcome([&]() -> asio::awaitable<void> { co_await dead->acquire(); });
    seen["dead flagged"] = dead->last_connect_failed() ? std::string("yes") : std::string("no");
}

asio::awaitable<void> scenario_pga_async_names(asio::any_io_executor ex, std::string port, Observed& seen) {
  auto conn = co_await db::AsyncConnection::connect(ex, "postgresql://postgres@localhost:" + port + "/postgres", 5s);
  seen["by name"] = (co_await conn->query("SELECT 'connected'")).get(0, 0);
  try {
    co_await db::AsyncConnection::connect(ex, "host=no-such-host.invalid port=" + port + " user=postgres", 5s);
  } catch (const db::DbUnavailable& e) {
    seen["unknown name"] = e.what();
  }
}

// Host names are looked up on the event loop (libpq would block it): the connection still
// reaches the server by name, and an unknown name is reported as the database being unavailable.
TEST_CASE("a host name is resolved without blocking and every address is tried") {
  const auto port = test::harness_value("PGA_TEST_PG_PORT");
  auto seen = run([&](asio::any_io_executor ex, Observed& s) { return scenario_pga_async_names(ex, port, s); });
  CHECK(seen["by name"] == "connected");
  CHECK(seen["unknown name"].find("cannot resolve no-such-host.invalid") != std::string::npos);
}

TEST_CASE("queries take parameters and SQL errors leave the connection usable") {
  auto url = test::fresh_database("pga_async_pg");
  auto seen = run([&](asio::any_io_executor ex, Observed& s) { return scenario_pga_async_pg(ex, url, s); });
  CHECK(seen["sum"] == "42");
  CHECK(seen["null"] == "t");
  CHECK(seen["division"] == "error 22012");
  CHECK(seen["healthy"] == "yes");
  CHECK(seen["after"] == "still here");
}

TEST_CASE("COPY loads rows in text format") {
  auto url = test::fresh_database("pga_async_copy");
  auto seen = run([&](asio::any_io_executor ex, Observed& s) { return scenario_pga_async_copy(ex, url, s); });
  CHECK(seen["loaded"] == "100001 5000050000 100000");
  CHECK(seen["bad copy"] == "error 22P02");
  CHECK(seen["after bad copy"] == "100001");
}

TEST_CASE("a statement past its timeout makes the connection unavailable, not the thread stuck") {
  auto url = test::fresh_database("pga_async_timeout");
  auto started = std::chrono::steady_clock::now();
  auto seen = run([&](asio::any_io_executor ex, Observed& s) { return scenario_pga_async_timeout(ex, url, s); });
  CHECK(seen["sleep"] == "unavailable");
  CHECK(seen["healthy"] == "no");
  CHECK(std::chrono::steady_clock::now() - started < 3s);
}

TEST_CASE("the pool hands out at most its size and reports an unreachable database") {
  auto url = test::fresh_database("pga_async_pool");
  auto seen = run([&](asio::any_io_executor ex, Observed& s) { return scenario_pga_async_pool(ex, url, s); });
  CHECK(seen["third"] == "unavailable");
  CHECK(seen["reused"] == "1");
  CHECK(seen["dead"] == "unavailable");
  CHECK(seen["dead flagged"] == "yes");
}
