// The server session over plain TCP on 127.0.0.1 (the same template code TLS uses): keep-alive,
// timeouts, body and connection limits, gzip bodies, error answers and two-stage shutdown.
#include "pganalytics/net/gzip.hpp"
#include "pganalytics/net/http_server.hpp"
#include "net_test_support.hpp"

#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>

#include <atomic>
#include <thread>

namespace pga::net::testing {
namespace {

TEST_CASE("net server: keep-alive serves several requests on one connection") {
  PlainServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto c = co_await RawConnection::open(s.server.port());
    co_await c.send(get_request("/whoami"));
    auto first = co_await c.read_response();
    co_await c.send(post_request("/echo", "hello"));
    auto second = co_await c.read_response();
    CHECK(first.result_int() == 200);
    CHECK(first.body() == "none");
    CHECK(first.keep_alive());
    CHECK(second.body() == "hello");
    CHECK(second[http::field::content_length] == "5");
    CHECK(s.server.stats().accepted == 1);
    c.close();
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net server: errors arrive as JSON with Content-Length; a 500 hides its cause") {
  PlainServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto c = co_await RawConnection::open(s.server.port());
    co_await c.send(get_request("/fail"));
    auto failed = co_await c.read_response();
    CHECK(failed.result_int() == 500);
    CHECK(failed.body() == R"({"error":{"code":"internal_error","message":"internal server error"}})");
    CHECK(failed[http::field::content_type] == "application/json");
    co_await c.send(get_request("/nowhere"));
    auto missing = co_await c.read_response();
    CHECK(missing.result_int() == 404);
    CHECK(missing[http::field::content_length] == std::to_string(missing.body().size()));
    co_await c.send("DELETE /whoami HTTP/1.1\r\nHost: t\r\n\r\n");
    auto wrong_method = co_await c.read_response();
    CHECK(wrong_method.result_int() == 405);
    CHECK(wrong_method[http::field::allow] == "GET");
    co_await c.send("GET /../x HTTP/1.1\r\nHost: t\r\n\r\n");
    auto traversal = co_await c.read_response();
    CHECK(traversal.result_int() == 404);
    c.close();
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net server: the observer gets route patterns, never raw paths") {
  PlainServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto c = co_await RawConnection::open(s.server.port());
    for (auto request : {get_request("/slow/1"), get_request("/no/such/thing"),
                         std::string("BREW /whoami HTTP/1.1\r\nHost: t\r\n\r\n")}) {
      co_await c.send(request);
      co_await c.read_response();
    }
    c.close();
    co_await s.server.stop(1s);
  });
  REQUIRE(s.observed.size() == 3);
  CHECK(s.observed[0].route == "/slow/{ms}");
  CHECK(s.observed[0].method == "GET");
  CHECK(s.observed[0].status == 200);
  CHECK(s.observed[1].route == "");
  CHECK(s.observed[1].status == 404);
  CHECK(s.observed[2].route == "/whoami");
  CHECK(s.observed[2].method == "OTHER");
  CHECK(s.observed[2].status == 405);
}

TEST_CASE("net server: a client sending half its headers is cut at the header timeout") {
  auto limits = fast_limits();
  limits.header_timeout = 300ms;
  limits.idle_timeout = 300ms;
  PlainServer s(limits);
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto slow = co_await RawConnection::open(s.server.port());
    auto started = std::chrono::steady_clock::now();
    co_await slow.send("GET /whoami HTTP/1.1\r\nHost: t\r\n");
    bool cut = co_await slow.closed_within(2s);
    CHECK(cut);
    CHECK(seconds_since(started) >= 0.25);
    CHECK(seconds_since(started) < 1.0);

    auto idle = co_await RawConnection::open(s.server.port());
    co_await idle.send(get_request("/whoami"));
    co_await idle.read_response();
    started = std::chrono::steady_clock::now();
    bool idle_closed = co_await idle.closed_within(2s);  // keep-alive idle timeout
    CHECK(idle_closed);
    CHECK(seconds_since(started) >= 0.25);
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net server: bodies over the route's limit get 413 without being read") {
  PlainServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto declared = co_await RawConnection::open(s.server.port());
    co_await declared.send("POST /small HTTP/1.1\r\nHost: t\r\nContent-Length: 104857600\r\n\r\n");
    auto refused = co_await declared.read_response();
    CHECK(refused.result_int() == 413);
    CHECK(refused.body().find(R"("code":"payload_too_large")") != std::string::npos);
    CHECK_FALSE(refused.keep_alive());
    bool closed_after_413 = co_await declared.closed_within(1s);
    CHECK(closed_after_413);

    auto chunked = co_await RawConnection::open(s.server.port());
    std::string chunk = "258\r\n" + std::string(600, 'x') + "\r\n";
    co_await chunked.send("POST /small HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk);
    auto too_long = co_await chunked.read_response();
    CHECK(too_long.result_int() == 413);

    auto at_limit = co_await RawConnection::open(s.server.port());
    co_await at_limit.send(post_request("/small", std::string(1024, 'y')));
    auto exact = co_await at_limit.read_response();
    CHECK(exact.body().size() == 1024);
    co_await at_limit.send(post_request("/echo", std::string(4096, 'z')));  // another route, its own limit
    auto larger = co_await at_limit.read_response();
    CHECK(larger.body().size() == 4096);
    at_limit.close();
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net server: a handler that refuses on the headers answers before any body is read") {
  PlainServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    // 8 MiB declared, not a byte of it sent: the answer still comes, and the connection closes.
    auto anonymous = co_await RawConnection::open(s.server.port());
    co_await anonymous.send("POST /guarded HTTP/1.1\r\nHost: t\r\nContent-Encoding: gzip\r\nContent-Length: 8388608\r\n\r\n");
    auto refused = co_await anonymous.read_response();
    CHECK(refused.result_int() == 403);
    CHECK_FALSE(refused.keep_alive());
    bool closed = co_await anonymous.closed_within(1s);
    CHECK(closed);

    auto passing = co_await RawConnection::open(s.server.port());
    co_await passing.send(post_request("/guarded", deflate_gzip("let in"), "X-Pass: yes\r\nContent-Encoding: gzip\r\n"));
    auto admitted = co_await passing.read_response();
    CHECK(admitted.body() == "let in");
    CHECK(admitted.keep_alive());
    co_await passing.send("POST /guarded HTTP/1.1\r\nHost: t\r\nX-Pass: yes\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    auto interim = co_await passing.read_response();  // only once the handler asks for the body
    CHECK(interim.result_int() == 100);
    co_await passing.send("hello");
    auto echoed = co_await passing.read_response();
    CHECK(echoed.body() == "hello");
    passing.close();
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net server: an unknown Transfer-Encoding is 501 and nothing after it runs") {
  PlainServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    for (std::string coding : {"gzip", "gzip, chunked", "identity"}) {
      auto c = co_await RawConnection::open(s.server.port());
      co_await c.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: " + coding + "\r\n\r\n" +
                      get_request("/whoami"));
      auto refused = co_await c.read_response();
      CHECK_MESSAGE(refused.result_int() == 501, coding);
      CHECK(refused.body().find("not_implemented") != std::string::npos);
      CHECK_FALSE(refused.keep_alive());
      bool closed = co_await c.closed_within(1s);  // the smuggled GET is never answered
      CHECK(closed);
    }
    auto twice = co_await RawConnection::open(s.server.port());
    co_await twice.send("POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    auto doubled = co_await twice.read_response();
    CHECK(doubled.result_int() >= 400);
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net server: gzip bodies are inflated for the handler, under the limits") {
  PlainServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto c = co_await RawConnection::open(s.server.port());
    std::string batch = sample_batch(200000);
    co_await c.send(post_request("/echo", deflate_gzip(batch), "Content-Encoding: gzip\r\n"));
    auto echoed = co_await c.read_response();
    CHECK(echoed.result_int() == 200);
    bool intact = echoed.body() == batch;
    CHECK(intact);

    co_await c.send(post_request("/echo", deflate_gzip(std::string(20 << 20, '\0')), "Content-Encoding: gzip\r\n"));
    auto bomb = co_await c.read_response();
    CHECK(bomb.result_int() == 413);
    CHECK(bomb.body().find("payload_too_large") != std::string::npos);

    co_await c.send(post_request("/echo", "not gzip at all", "Content-Encoding: gzip\r\n"));
    auto corrupt = co_await c.read_response();
    CHECK(corrupt.result_int() == 400);
    CHECK(corrupt.body().find("bad_gzip") != std::string::npos);
    CHECK(corrupt.keep_alive());  // the body was read, so the connection stays usable

    co_await c.send(post_request("/echo", "x", "Content-Encoding: br\r\n"));
    auto brotli = co_await c.read_response();
    CHECK(brotli.result_int() == 415);

    auto d = co_await RawConnection::open(s.server.port());
    co_await d.send(post_request("/small", deflate_gzip("{}"), "Content-Encoding: gzip\r\n"));
    auto not_here = co_await d.read_response();
    CHECK(not_here.result_int() == 415);  // only routes that say so take gzip
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net server: inflation beyond the budget of bytes held at once is 503 with Retry-After") {
  auto limits = fast_limits();
  limits.max_inflating_bytes = 150'000;
  PlainServer s(limits);
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto c = co_await RawConnection::open(s.server.port());
    co_await c.send(post_request("/echo", deflate_gzip(sample_batch(100'000)), "Content-Encoding: gzip\r\n"));
    auto fits = co_await c.read_response();
    CHECK(fits.result_int() == 200);
    co_await c.send(post_request("/echo", deflate_gzip(sample_batch(200'000)), "Content-Encoding: gzip\r\n"));
    auto over = co_await c.read_response();
    CHECK(over.result_int() == 503);
    CHECK(over[http::field::retry_after] == "2");
    CHECK(over.keep_alive());  // the body was read: the connection goes on
    CHECK(s.server.stats().inflate_refused == 1);
    CHECK(s.server.stats().inflating_bytes == 0);  // the first lease ended with its response
    co_await c.send(post_request("/echo", deflate_gzip(sample_batch(100'000)), "Content-Encoding: gzip\r\n"));
    auto again = co_await c.read_response();
    CHECK(again.result_int() == 200);
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net server: Expect: 100-continue is honoured") {
  PlainServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto c = co_await RawConnection::open(s.server.port());
    co_await c.send("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    auto interim = co_await c.read_response();
    CHECK(interim.result_int() == 100);
    co_await c.send("hello");
    auto echoed_after_continue = co_await c.read_response();
    CHECK(echoed_after_continue.body() == "hello");
    c.close();
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net server: stop lets a request in flight finish and closes idle connections") {
  PlainServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto busy = co_await RawConnection::open(s.server.port());
    co_await busy.send(get_request("/slow/300"));
    auto idle = co_await RawConnection::open(s.server.port());
    co_await idle.send(get_request("/whoami"));
    co_await idle.read_response();
    co_await sleep_for(50ms);
    bool stopped = false;
    auto started = std::chrono::steady_clock::now();
    asio::co_spawn(
        co_await asio::this_coro::executor,
        [&]() -> asio::awaitable<void> {
          co_await s.server.stop(2s);
          stopped = true;
        },
        asio::detached);
    bool idle_closed = co_await idle.closed_within(200ms);
    CHECK(idle_closed);
    auto response = co_await busy.read_response();
    CHECK(response.result_int() == 200);
    CHECK(response.body() == "slow");
    CHECK_FALSE(response.keep_alive());
    busy.close();
    while (!stopped) co_await sleep_for(10ms);
    CHECK(seconds_since(started) < 1.0);
    bool listening = co_await accepts_connections(s.server.port());
    CHECK_FALSE(listening);
  });
}

TEST_CASE("net server: the grace period or a second stop cuts requests that take too long") {
  PlainServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto first = co_await RawConnection::open(s.server.port());
    co_await first.send(get_request("/slow/400"));
    co_await sleep_for(50ms);
    auto started = std::chrono::steady_clock::now();
    co_await s.server.stop(150ms);
    CHECK(seconds_since(started) < 0.5);
    bool cut = co_await first.closed_within(100ms);
    CHECK(cut);
  });
  PlainServer t;
  run_bounded(t.io, [&]() -> asio::awaitable<void> {
    auto c = co_await RawConnection::open(t.server.port());
    co_await c.send(get_request("/slow/400"));
    co_await sleep_for(50ms);
    asio::co_spawn(co_await asio::this_coro::executor, t.server.stop(10s), asio::detached);
    co_await sleep_for(20ms);
    auto started = std::chrono::steady_clock::now();
    co_await t.server.stop(10s);
    CHECK(seconds_since(started) < 0.1);
    bool cut = co_await c.closed_within(100ms);
    CHECK(cut);
  });
}

TEST_CASE("net server: many clients on a multi-threaded io_context") {
  PlainServer s;
  constexpr int kClients = 16, kRequests = 5;
  std::atomic<int> answered{0};
  std::atomic<int> clients_done{0};
  for (int i = 0; i < kClients; ++i)
    asio::co_spawn(asio::make_strand(s.io), [&, i]() -> asio::awaitable<void> {
      auto c = co_await RawConnection::open(s.server.port());
      for (int j = 0; j < kRequests; ++j) {
        std::string body = std::to_string(i * 100 + j);
        co_await c.send(post_request("/echo", body));
        if ((co_await c.read_response()).body() == body) ++answered;
      }
      c.close();
      if (++clients_done == kClients) co_await s.server.stop(1s);
    }, asio::detached);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&] { s.io.run_for(5s); });
  for (auto& thread : threads) thread.join();
  CHECK(answered.load() == kClients * kRequests);
  CHECK(s.server.stats().accepted == kClients);
  CHECK(s.io.stopped());
}

}  // namespace
}  // namespace pga::net::testing
