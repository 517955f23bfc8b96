// Helpers for the network tests: a throwaway PKI made with OpenSSL's C API, a raw HTTP/1.1
// connection for poking the server byte by byte, and a bounded runner for test coroutines.
#pragma once
#include "pganalytics/net/gzip.hpp"
#include "pganalytics/net/http_server.hpp"
#include "pganalytics/net/router.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <doctest/doctest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include <chrono>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

namespace pga::net::testing {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using namespace std::chrono_literals;

// ---- PKI --------------------------------------------------------------------------------

struct Identity {
  std::shared_ptr<X509> cert;
  std::shared_ptr<EVP_PKEY> key;
  std::string cert_pem;
  std::string key_pem;
};

inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long size = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  return text;
}

inline void add_extension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext || X509_add_ext(cert, ext, -1) != 1) throw std::runtime_error("bad extension " + value);
  X509_EXTENSION_free(ext);
}

// A P-256 certificate for `cn`, self-signed when `issuer` is null. `san` like "IP:127.0.0.1".
// Valid from an hour ago until `expires_in_s` from now; `eku` empty: no extended key usage.
inline Identity issue(const std::string& cn, const Identity* issuer, bool is_ca, const std::string& san = {},
                      long expires_in_s = 86400, const std::string& eku = "serverAuth,clientAuth") {
  static long serial = 1;
  Identity id;
  id.key.reset(EVP_EC_gen("P-256"), EVP_PKEY_free);
  id.cert.reset(X509_new(), X509_free);
  X509* cert = id.cert.get();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), expires_in_s);
  X509_set_pubkey(cert, id.key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* signer = issuer ? issuer->cert.get() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(signer));
  add_extension(cert, signer, NID_subject_key_identifier, "hash");
  add_extension(cert, signer, NID_authority_key_identifier, "keyid");
  add_extension(cert, signer, NID_basic_constraints, is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_extension(cert, signer, NID_key_usage, is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  if (!is_ca && !eku.empty()) add_extension(cert, signer, NID_ext_key_usage, eku);
  if (!san.empty()) add_extension(cert, signer, NID_subject_alt_name, san);
  X509_sign(cert, issuer ? issuer->key.get() : id.key.get(), EVP_sha256());
  BIO* cert_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(cert_bio, cert);
  id.cert_pem = bio_text(cert_bio);
  BIO* key_bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(key_bio, id.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  id.key_pem = bio_text(key_bio);
  return id;
}

struct TestPki {
  Identity ca = issue("pganalytics test CA", nullptr, true);
  Identity server = issue("server", &ca, false, "DNS:localhost,IP:127.0.0.1");
  Identity server_for_other_name = issue("server", &ca, false, "DNS:other.example");
  // As the server's CA issues agent certificates: CN, the urn:uuid SAN, clientAuth.
  Identity client = issue("collector-1", &ca, false, "URI:urn:uuid:collector-1", 86400, "clientAuth");
  Identity client_without_san = issue("collector-1", &ca, false);
  Identity client_other_san = issue("collector-1", &ca, false, "URI:urn:uuid:collector-2", 86400, "clientAuth");
  Identity client_two_sans =
      issue("collector-1", &ca, false, "URI:urn:uuid:collector-1,URI:urn:uuid:collector-2", 86400, "clientAuth");
  Identity client_without_eku = issue("collector-1", &ca, false, "URI:urn:uuid:collector-1", 86400, "");
  Identity client_server_eku = issue("collector-1", &ca, false, "URI:urn:uuid:collector-1", 86400, "serverAuth");
  Identity expired_client = issue("collector-1", &ca, false, "URI:urn:uuid:collector-1", -60, "clientAuth");
  Identity foreign_ca = issue("foreign CA", nullptr, true);
  Identity foreign_client = issue("collector-1", &foreign_ca, false);
};

inline const TestPki& pki() {
  static const TestPki instance;
  return instance;
}

// ---- coroutines -------------------------------------------------------------------------

// Runs `test` on `io` and fails unless it (and everything it started) finishes within `limit`.
template <class Test>
void run_bounded(asio::io_context& io, Test test, std::chrono::milliseconds limit = 5s) {
  bool finished = false;
  std::exception_ptr failure;
  asio::co_spawn(io, std::move(test), [&](std::exception_ptr error) {
    finished = true;
    failure = error;
  });
  io.run_for(limit);
  REQUIRE_MESSAGE(finished, "test coroutine did not finish in time");
  REQUIRE_MESSAGE(io.stopped(), "work was left running after the test");
  if (failure) std::rethrow_exception(failure);
}

inline asio::awaitable<void> sleep_for(std::chrono::milliseconds duration) {
  asio::steady_timer timer(co_await asio::this_coro::executor, duration);
  co_await timer.async_wait(asio::use_awaitable);
}

inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Compresses about 10:1 like a real push batch: within the 100:1 inflation ratio.
inline std::string sample_batch(std::size_t size) {
  std::string text;
  for (std::size_t i = 0; text.size() < size; ++i)
    text += "[\"table_" + std::to_string(i % 97) + "\"," + std::to_string(i * 7919 % 100003) + "],";
  text.resize(size);
  return text;
}

// ---- a raw HTTP/1.1 connection ----------------------------------------------------------

inline std::string get_request(const std::string& target, const std::string& extra_headers = {}) {
  return "GET " + target + " HTTP/1.1\r\nHost: test\r\n" + extra_headers + "\r\n";
}

inline std::string post_request(const std::string& target, const std::string& body, const std::string& extra_headers = {}) {
  return "POST " + target + " HTTP/1.1\r\nHost: test\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
         extra_headers + "\r\n" + body;
}

class RawConnection {
 public:
  explicit RawConnection(beast::tcp_stream stream) : stream_(std::move(stream)) {}

  static asio::awaitable<RawConnection> open(std::uint16_t port) {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    stream.expires_after(2s);
    co_await stream.async_connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                                  asio::use_awaitable);
    co_return RawConnection(std::move(stream));
  }

  asio::awaitable<void> send(const std::string& bytes) {
    stream_.expires_after(2s);
    co_await asio::async_write(stream_, asio::buffer(bytes), asio::use_awaitable);
  }

  asio::awaitable<http::response<http::string_body>> read_response() {
    http::response_parser<http::string_body> parser;
    parser.body_limit(64 * 1024 * 1024);
    stream_.expires_after(3s);
    co_await http::async_read(stream_, buffer_, parser, asio::use_awaitable);
    co_return parser.release();
  }

  // True when the server closes (or resets) the connection within `timeout`.
  asio::awaitable<bool> closed_within(std::chrono::milliseconds timeout) {
    stream_.expires_after(timeout);
    char byte;
    for (;;) {
      auto [ec, n] = co_await stream_.async_read_some(asio::buffer(&byte, 1), asio::as_tuple(asio::use_awaitable));
      if (ec) co_return ec != beast::error::timeout;
    }
  }

  void close() { stream_.close(); }

 private:
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
};

inline asio::awaitable<bool> accepts_connections(std::uint16_t port) {
  try {
    co_await RawConnection::open(port);
    co_return true;
  } catch (const boost::system::system_error&) {
    co_return false;
  }
}

// ---- the server the tests share ----------------------------------------------------------

// Short timeouts so that the tests which wait for them stay fast.
inline ServerLimits fast_limits() {
  ServerLimits limits;
  limits.handshake_timeout = limits.header_timeout = limits.body_timeout = 1s;
  limits.idle_timeout = limits.write_timeout = 1s;
  limits.linger_timeout = 200ms;
  return limits;
}

inline Response text(std::string body) { return Response{.content_type = "text/plain", .body = std::move(body)}; }

inline constexpr BodyPolicy kEchoBody{8 * 1024 * 1024, true};

// GET /whoami: the verified client certificate's identity or "none". POST /echo: the body as
// received by the handler (gzip accepted). POST /small: the same, for bodies up to 1 KiB, no gzip.
// POST /guarded: reads its body only with "X-Pass: yes", else 403 at once, as an authenticating
// handler would. GET /slow/{ms}: answers after a delay. GET /fail: an exception with internals.
// GET /gzipped: a gzip-encoded answer.
inline Router test_router() {
  Router router;
  router.add("GET", "/whoami", [](Request& request) -> asio::awaitable<Response> {
    co_return text(request.peer_certificate_cn.value_or("none"));
  });
  router.add(
      "POST", "/echo", [](Request& request) -> asio::awaitable<Response> { co_return text(std::move(request.body)); },
      kEchoBody);
  router.add(
      "POST", "/small", [](Request& request) -> asio::awaitable<Response> { co_return text(std::move(request.body)); },
      BodyPolicy{1024, false});
  router.add(
      "POST", "/guarded",
      [](Request& request, BodyReader& body) -> asio::awaitable<Response> {
        if (request.header("X-Pass") != std::optional<std::string_view>("yes"))
          throw ApiError(403, "forbidden", "no pass");
        co_await body.read(request);
        co_return text(std::move(request.body));
      },
      kEchoBody);
  router.add("GET", "/slow/{ms}", [](Request& request) -> asio::awaitable<Response> {
    co_await sleep_for(std::chrono::milliseconds(std::stoi(request.path_param("ms"))));
    co_return text("slow");
  });
  router.add("GET", "/fail", [](Request&) -> asio::awaitable<Response> {
    throw std::runtime_error("connection to postgres://app:hunter2@db failed");
    co_return Response{};
  });
  router.add("GET", "/gzipped", [](Request&) -> asio::awaitable<Response> {
    Response response = text(deflate_gzip("inflated by the client"));
    response.headers.emplace_back("Content-Encoding", "gzip");
    co_return response;
  });
  return router;
}

// A plain-TCP server on the test router, recording what its observer saw.
struct Observed {
  std::string route;
  std::string method;
  int status;
};

struct PlainServer {
  explicit PlainServer(ServerLimits limits = fast_limits())
      : server(io, test_router(),
               ServerOptions{.limits = limits, .observer = [this](std::string_view route, std::string_view method,
                                                                   int status, double) {
                               std::lock_guard lock(mutex);
                               observed.push_back({std::string(route), std::string(method), status});
                             }}) {
    server.start();
  }
  asio::io_context io;
  std::mutex mutex;
  std::vector<Observed> observed;
  HttpServer server;
};

}  // namespace pga::net::testing
