// Which address a connection's client has when it came through reverse proxies: the TCP peer,
// unless the peer is a proxy the operator trusts (--trusted-proxy), in which case the
// X-Forwarded-For list is read from the right, past every trusted hop (docs/reverse-proxy.md).
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace raptor {

// An IPv4 or IPv6 network: "10.0.0.0/8", "::1/128"; a bare address is a /32 or /128.
struct AddressRange {
  std::array<uint8_t, 16> bytes{};  // IPv4 in the first 4
  bool v6 = false;
  int prefix = 0;  // bits
};

std::optional<AddressRange> parse_address_range(std::string_view text);

// Whether `address` (text, IPv4, IPv6 or IPv4-mapped IPv6) is in one of `ranges`.
bool in_ranges(std::string_view address, const std::vector<AddressRange>& ranges);

// The client's address: `peer` when it is not trusted (whatever the header says: anyone can send
// one); else the right-most X-Forwarded-For entry that is not itself trusted. An entry that is
// not an address ends the walk at the last trusted hop, the one that passed it on.
std::string client_address(std::string_view peer, std::string_view x_forwarded_for,
                           const std::vector<AddressRange>& trusted);

}  // namespace raptor
