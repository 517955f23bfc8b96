// The key a client is counted under, wherever the server budgets per client: connections per
// address (net/connections.cpp) and sign-in attempts per address (server/login_limiter.cpp).
// An IPv4 address as is (also when IPv4-mapped in IPv6); an IPv6 address as its /64
// ("2001:db8:1:2::/64"), the block one host usually holds.
#pragma once
#include <boost/asio/ip/address.hpp>

#include <string>
#include <string_view>

namespace pga::net {

std::string address_key(const boost::asio::ip::address& address);
// The same for an address in text; anything unparsable is its own key, as given.
std::string address_key(std::string_view address);

}  // namespace pga::net
