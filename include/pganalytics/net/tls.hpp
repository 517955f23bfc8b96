// TLS 1.3-only contexts for the server (optional client certificates checked against our CA) and
// for the client (the server verified against one given CA only, optional client certificate).
#pragma once
#include <boost/asio/ssl/context.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace pga::net {

// With a client CA the server asks every client for a certificate and refuses the handshake
// when one is sent that does not verify against that CA; a client that sends none still
// connects (enrolment has no certificate yet), and each route decides whether it needs one.
// Bad PEM or a key that does not match the certificate throws std::runtime_error.
boost::asio::ssl::context make_server_tls_context(std::string_view cert_chain_pem, std::string_view key_pem,
                                                  std::string_view client_ca_pem = {});

// Trusts `ca_pem` and nothing else (not the system store). The host name or IP address is
// checked per connection by HttpsClient.
boost::asio::ssl::context make_client_tls_context(std::string_view ca_pem, std::string_view client_cert_pem = {},
                                                  std::string_view client_key_pem = {});

// The identity of the client's certificate: its subject CN, if a certificate was presented and
// verified, is meant for client authentication (an extended key usage with clientAuth, not
// merely none) and names the same identity as its one URI subject alternative name,
// "urn:uuid:<CN>" — as this server's CA issues agent certificates. Else nullopt.
std::optional<std::string> verified_client_identity(SSL* ssl);

}  // namespace pga::net
