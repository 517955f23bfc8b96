// This machine's host name, and listen addresses ("host:port", "[v6]:port", ":port") split into
// their parts; the config reader has already checked their form.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace pga {

struct ListenAddress {
  std::string host;
  std::uint16_t port;
};

ListenAddress split_listen_address(const std::string& listen, std::string_view default_host);
std::string local_hostname();

}  // namespace pga
