// HttpsClient against HttpServer over real TLS on 127.0.0.1: TLS 1.3 only, client certificates
// (ours, none, a foreign CA's), server verification, keep-alive and reconnects, timeouts, gzip.
#include "pganalytics/net/http_client.hpp"
#include "pganalytics/net/tls.hpp"
#include "net_test_support.hpp"

#include <boost/asio/detached.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace pga::net::testing {
namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

struct TlsServer {
  explicit TlsServer(const Identity& identity = pki().server, ServerLimits limits = fast_limits())
      : tls(make_server_tls_context(identity.cert_pem, identity.key_pem, pki().ca.cert_pem)),
        server(io, tls, test_router(),
               ServerOptions{.limits = limits, .observer = [this](auto, auto, int, double) { ++answered; }}) {
    server.start();
  }
  asio::io_context io;
  asio::ssl::context tls;
  int answered = 0;  // requests that reached the router; the io_context runs on this thread only
  HttpServer server;
};

asio::ssl::context client_context(const Identity* client = &pki().client, const Identity& ca = pki().ca) {
  return client ? make_client_tls_context(ca.cert_pem, client->cert_pem, client->key_pem)
                : make_client_tls_context(ca.cert_pem);
}

// Runs one request and returns the TransportError it must fail with.
asio::awaitable<std::string> transport_failure(HttpsClient& client, std::string target,
                                               std::chrono::milliseconds timeout = 2s, bool* timed_out = nullptr) {
  try {
    co_await client.request("GET", std::move(target), {}, {}, false, timeout);
  } catch (const TransportError& e) {
    if (timed_out) *timed_out = e.timed_out();
    co_return e.what();
  }
  FAIL("the request was expected to fail");
  co_return "";
}

// A TLS handshake with only the given protocol versions; returns the negotiated version or 0.
asio::awaitable<int> handshake_with(std::uint16_t port, int min_version, int max_version) {
  asio::ssl::context ctx(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(ctx.native_handle(), min_version);
  SSL_CTX_set_max_proto_version(ctx.native_handle(), max_version);
  TlsStream stream(co_await asio::this_coro::executor, ctx);
  beast::get_lowest_layer(stream).expires_after(2s);
  co_await beast::get_lowest_layer(stream).async_connect(
      asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), asio::use_awaitable);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::client, asio::as_tuple(asio::use_awaitable));
  if (ec) MESSAGE("handshake refused: ", ec.message());
  co_return ec ? 0 : SSL_version(stream.native_handle());
}

TEST_CASE("net tls: mutual TLS 1.3 round trip; the handler sees the verified identity, or none") {
  TlsServer s;
  auto with_cert = client_context();
  auto without_cert = client_context(nullptr);
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    HttpsClient agent(executor, with_cert, "127.0.0.1", s.server.port());
    auto me = co_await agent.request("GET", "/whoami");
    CHECK(me.status == 200);
    CHECK(me.body == "collector-1");
    CHECK(me.header("content-length") == "11");
    HttpsClient enrolling(executor, without_cert, "localhost", s.server.port());
    auto anonymous = co_await enrolling.request("GET", "/whoami");
    CHECK(anonymous.body == "none");
    co_await s.server.stop(1s);
  });
  CHECK(s.answered == 2);
}

TEST_CASE("net tls: TLS 1.3 is accepted and a TLS 1.2-only client is refused") {
  TlsServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    int modern = co_await handshake_with(s.server.port(), TLS1_2_VERSION, TLS1_3_VERSION);
    CHECK(modern == TLS1_3_VERSION);
    int old = co_await handshake_with(s.server.port(), TLS1_VERSION, TLS1_2_VERSION);
    CHECK(old == 0);
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net tls: a client certificate from a foreign CA, or expired, never reaches a handler") {
  TlsServer s;
  auto foreign = client_context(&pki().foreign_client);
  auto expired = client_context(&pki().expired_client);
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    HttpsClient intruder(executor, foreign, "127.0.0.1", s.server.port());
    auto unknown_ca = co_await transport_failure(intruder, "/whoami");
    MESSAGE(unknown_ca);
    CHECK(unknown_ca.find("127.0.0.1") != std::string::npos);
    HttpsClient late(executor, expired, "127.0.0.1", s.server.port());
    auto too_old = co_await transport_failure(late, "/whoami");
    MESSAGE(too_old);
    CHECK(too_old.find("expired") != std::string::npos);
    co_await s.server.stop(1s);
  });
  CHECK(s.answered == 0);
}

// What /whoami answers for a certificate, or "refused" when the handshake already fails.
asio::awaitable<std::string> identity_seen(std::uint16_t port, const Identity& client) {
  auto context = client_context(&client);
  HttpsClient agent(co_await asio::this_coro::executor, context, "127.0.0.1", port);
  try {
    co_return (co_await agent.request("GET", "/whoami")).body;
  } catch (const TransportError&) {
    co_return "refused";
  }
}

TEST_CASE("net tls: an agent identity needs the clientAuth usage and the one urn:uuid SAN of its CN") {
  TlsServer s;
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    const auto port = s.server.port();
    CHECK(co_await identity_seen(port, pki().client) == "collector-1");
    CHECK(co_await identity_seen(port, pki().client_without_san) == "none");
    CHECK(co_await identity_seen(port, pki().client_other_san) == "none");
    CHECK(co_await identity_seen(port, pki().client_two_sans) == "none");
    CHECK(co_await identity_seen(port, pki().client_without_eku) == "none");
    const auto server_usage = co_await identity_seen(port, pki().client_server_eku);
    CHECK((server_usage == "none" || server_usage == "refused"));
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net tls: the room kept for client certificates stays theirs; anonymous ones are closed") {
  auto limits = fast_limits();
  limits.max_connections = 4;
  limits.reserved_for_certificates = 2;
  limits.max_connections_per_address = 100;
  TlsServer s(pki().server, limits);
  auto anonymous = client_context(nullptr);
  auto agent = client_context();
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    // Two anonymous clients fill the anonymous share, and stay busy.
    HttpsClient first(executor, anonymous, "127.0.0.1", s.server.port());
    HttpsClient second(executor, anonymous, "127.0.0.1", s.server.port());
    bool done_first = false, done_second = false;
    asio::co_spawn(executor, [&]() -> asio::awaitable<void> {
      co_await first.request("GET", "/slow/600");
      done_first = true;
    }, asio::detached);
    asio::co_spawn(executor, [&]() -> asio::awaitable<void> {
      co_await second.request("GET", "/slow/600");
      done_second = true;
    }, asio::detached);
    co_await sleep_for(150ms);
    HttpsClient third(executor, anonymous, "127.0.0.1", s.server.port());
    auto shut_out = co_await transport_failure(third, "/whoami");
    CHECK(!shut_out.empty());
    HttpsClient with_certificate(executor, agent, "127.0.0.1", s.server.port());
    auto served = co_await with_certificate.request("GET", "/whoami");
    CHECK(served.body == "collector-1");
    while (!done_first || !done_second) co_await sleep_for(20ms);
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net tls: the client refuses a server it cannot verify") {
  TlsServer s;
  TlsServer misnamed(pki().server_for_other_name);
  auto trusting_other_ca = client_context(&pki().client, pki().foreign_ca);
  auto ours = client_context();
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    HttpsClient wrong_ca(executor, trusting_other_ca, "127.0.0.1", s.server.port());
    auto unknown = co_await transport_failure(wrong_ca, "/whoami");
    CHECK(unknown.find("TLS handshake") != std::string::npos);
    CHECK(unknown.find("certificate verify failed") != std::string::npos);
    co_await s.server.stop(1s);
  });
  run_bounded(misnamed.io, [&]() -> asio::awaitable<void> {
    HttpsClient wrong_name(co_await asio::this_coro::executor, ours, "127.0.0.1", misnamed.server.port());
    auto mismatch = co_await transport_failure(wrong_name, "/whoami");
    CHECK(mismatch.find("IP address mismatch") != std::string::npos);
    co_await misnamed.server.stop(1s);
  });
}

TEST_CASE("net tls: keep-alive reuses one connection and reconnects after an idle close") {
  auto limits = fast_limits();
  limits.idle_timeout = 200ms;
  TlsServer s(pki().server, limits);
  auto ctx = client_context();
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    HttpsClient client(co_await asio::this_coro::executor, ctx, "127.0.0.1", s.server.port());
    for (int i = 0; i < 3; ++i) {
      auto response = co_await client.request("POST", "/echo", "ping " + std::to_string(i));
      CHECK(response.body == "ping " + std::to_string(i));
    }
    CHECK(s.server.stats().accepted == 1);
    co_await sleep_for(400ms);  // the server closes the idle connection
    auto after_idle = co_await client.request("GET", "/whoami");
    CHECK(after_idle.body == "collector-1");
    CHECK(s.server.stats().accepted == 2);
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net tls: client timeouts end slow requests and silent servers") {
  TlsServer s;
  auto ctx = client_context();
  asio::ip::tcp::acceptor silent(s.io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    auto executor = co_await asio::this_coro::executor;
    HttpsClient client(executor, ctx, "127.0.0.1", s.server.port());
    bool timed_out = false;
    auto started = std::chrono::steady_clock::now();
    auto slow = co_await transport_failure(client, "/slow/500", 150ms, &timed_out);
    CHECK(timed_out);
    CHECK(slow.find("timed out after 150 ms") != std::string::npos);
    CHECK(seconds_since(started) < 0.4);

    HttpsClient mute(executor, ctx, "127.0.0.1", silent.local_endpoint().port());
    timed_out = false;
    auto handshake = co_await transport_failure(mute, "/whoami", 150ms, &timed_out);
    CHECK(timed_out);
    CHECK(handshake.find("TLS handshake") != std::string::npos);
    silent.close();
    co_await s.server.stop(1s);
  });
}

TEST_CASE("net tls: gzip request bodies and gzip responses") {
  TlsServer s;
  auto ctx = client_context();
  const Fields extra_headers{{"X-Test", "1"}};  // outside the coroutine: GCC 12 mishandles it inside
  run_bounded(s.io, [&]() -> asio::awaitable<void> {
    HttpsClient client(co_await asio::this_coro::executor, ctx, "127.0.0.1", s.server.port());
    std::string batch = sample_batch(300000);
    auto echoed = co_await client.request("POST", "/echo", batch, extra_headers, true);
    CHECK(echoed.status == 200);
    bool intact = echoed.body == batch;
    CHECK(intact);
    auto gzipped = co_await client.request("GET", "/gzipped");
    CHECK(gzipped.body == "inflated by the client");
    co_await s.server.stop(1s);
  });
}

}  // namespace
}  // namespace pga::net::testing
