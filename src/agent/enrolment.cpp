// Enrolment over HTTPS. With only a fingerprint, the CA is fetched over an unverified TLS 1.3
// connection and accepted only if its SHA-256 matches the pin (kubeadm-style discovery); every
// later request verifies the server against that CA.
#include "pganalytics/agent/enrolment.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/json.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <stdexcept>

#include "pganalytics/net/http_client.hpp"
#include "pganalytics/net/tls.hpp"
#include "pganalytics/security/ca.hpp"
#include "pganalytics/version.hpp"

namespace pga::agent {
namespace asio = boost::asio;
namespace fs = std::filesystem;

namespace {

std::string normalized_fingerprint(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  text.erase(std::remove(text.begin(), text.end(), ':'), text.end());
  if (!text.starts_with("sha256")) text = "sha256" + text;
  return "sha256:" + text.substr(6);
}

asio::awaitable<std::string> fetch_pinned_ca(asio::any_io_executor executor, ServerAddress server,
                                             std::string fingerprint) {
  asio::ssl::context unverified(asio::ssl::context::tls_client);
  SSL_CTX_set_min_proto_version(unverified.native_handle(), TLS1_3_VERSION);
  unverified.set_verify_mode(asio::ssl::verify_none);
  net::HttpsClient client(executor, unverified, server.host, server.port);
  auto response = co_await client.request("GET", "/api/v1/ca.crt");
  if (response.status != 200) throw std::runtime_error("the server did not hand out its CA certificate");
  auto actual = security::certificate_fingerprint_sha256(response.body);
  if (actual != normalized_fingerprint(fingerprint))
    throw std::runtime_error("the server's CA fingerprint is " + actual + ", not the pinned " + fingerprint +
                             ": refusing to enrol");
  co_return response.body;
}

std::string register_body(const EnrolmentRequest& request, const std::string& csr) {
  return boost::json::serialize(boost::json::object{{"name", request.name},
                                                    {"hostname", request.hostname},
                                                    {"csr", csr},
                                                    {"agent_version", kVersion}});
}

std::string server_error(const net::ClientResponse& response) {
  boost::system::error_code ec;
  auto value = boost::json::parse(response.body, ec);
  if (!ec && value.is_object())
    if (auto* error = value.as_object().if_contains("error"); error && error->is_object())
      if (auto* message = error->as_object().if_contains("message"); message && message->is_string())
        return std::string(message->as_string());
  return "HTTP " + std::to_string(response.status);
}

}  // namespace

ServerAddress parse_server_url(const std::string& url) {
  auto parsed = boost::urls::parse_absolute_uri(url);
  if (!parsed || parsed->scheme() != "https" || parsed->host().empty())
    throw std::invalid_argument("\"" + url + "\" is not an https:// URL");
  if (!parsed->encoded_path().empty() && parsed->encoded_path() != "/")
    throw std::invalid_argument("\"" + url + "\" must not have a path");
  std::uint16_t port = parsed->has_port() ? parsed->port_number() : 443;
  std::string host = parsed->host_address();
  if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host, port};
}

asio::awaitable<Credentials> enrol(asio::any_io_executor executor, EnrolmentRequest request) {
  const auto server = parse_server_url(request.server_url);
  std::string ca_pem = request.ca_pem;
  if (ca_pem.empty()) ca_pem = co_await fetch_pinned_ca(executor, server, request.ca_fingerprint);

  const auto key_pem = security::generate_ec_p256_private_key_pem();
  write_file_atomically(request.files.key(), key_pem, fs::perms::owner_read | fs::perms::owner_write);
  const auto csr = security::make_csr(key_pem, request.name);

  auto tls = net::make_client_tls_context(ca_pem);
  net::HttpsClient client(executor, tls, server.host, server.port);
  net::Fields headers;
  headers.emplace_back("Authorization", "Bearer " + request.token);
  headers.emplace_back("Content-Type", "application/json");
  const auto body = register_body(request, csr);
  auto response = co_await client.request("POST", "/api/v1/collectors/register", body, headers);
  if (response.status != 201) throw std::runtime_error("the server refused the enrolment: " + server_error(response));

  auto answer = boost::json::parse(response.body).as_object();
  auto text = [&](const char* key) { return std::string(answer.at(key).as_string()); };
  const auto public_mode = fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read;
  write_file_atomically(request.files.certificate(), text("certificate"), public_mode);
  write_file_atomically(request.files.ca(), ca_pem, public_mode);
  Credentials credentials{text("collector_id"), text("access_token"), text("refresh_token"), request.server_url};
  save_credentials(request.files, credentials);
  co_return credentials;
}

}  // namespace pga::agent
