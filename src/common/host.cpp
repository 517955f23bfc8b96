// Host name and listen-address helpers shared by the server, the agent and `register`.
#include "pganalytics/common/host.hpp"

#include <unistd.h>

namespace pga {

ListenAddress split_listen_address(const std::string& listen, std::string_view default_host) {
  auto colon = listen.rfind(':');
  auto host = listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
  return {host.empty() ? std::string(default_host) : host,
          static_cast<std::uint16_t>(std::stoi(listen.substr(colon + 1)))};
}

std::string local_hostname() {
  char buffer[256] = {};
  ::gethostname(buffer, sizeof buffer - 1);
  return buffer;
}

}  // namespace pga
