// `pganalytics register`: makes the agent's key locally, proves the server with a CA file or a
// pinned CA fingerprint, sends a CSR with the enrolment token and stores what comes back.
#pragma once
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <string>

#include "pganalytics/agent/credentials.hpp"

namespace pga::agent {

struct ServerAddress {
  std::string host;
  std::uint16_t port;
};
// Accepts https://host[:port][/]; anything else throws std::invalid_argument naming the problem.
ServerAddress parse_server_url(const std::string& url);

struct EnrolmentRequest {
  std::string server_url;
  std::string token;
  std::string name;
  std::string hostname;
  std::string ca_pem;          // trusted CA, or empty to use ca_fingerprint
  std::string ca_fingerprint;  // "sha256:<hex>" of the server's CA certificate
  StateFiles files;
};

boost::asio::awaitable<Credentials> enrol(boost::asio::any_io_executor executor, EnrolmentRequest request);

}  // namespace pga::agent
