// Which address a connection's client has when it came through reverse proxies: the TCP peer,
// unless the peer is a proxy the operator trusts (--trusted-proxy), in which case the list of
// hops in the header those proxies write (X-Forwarded-For, or RFC 7239 Forwarded with
// --forwarded-header) is read from the right, past every trusted hop (docs/reverse-proxy.md).
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

// The header trusted proxies write the client's address into. One, chosen by the operator: a
// proxy passes the other one on as the client sent it, so reading both would let a client name
// its own address.
enum class ForwardedHeader { XForwardedFor, Forwarded };

// "x-forwarded-for" or "forwarded", in any case.
std::optional<ForwardedHeader> forwarded_header_named(std::string_view name);

// Whether `address` (text, IPv4, IPv6 or IPv4-mapped IPv6) is in one of `ranges`.
bool in_ranges(std::string_view address, const std::vector<AddressRange>& ranges);

// The client's address: `peer` when it is not trusted (whatever the header says: anyone can send
// one); else the right-most hop in `header` (the value of the `kind` header, repeated fields
// joined with ',') that is not itself trusted. X-Forwarded-For lists addresses; Forwarded lists
// elements whose for= names the hop (quoted, IPv6 in brackets, ports allowed: for="[2001:db8::1]:4711").
// A hop that is not an address (garbage, for=unknown, an obfuscated for=_name, an element
// without for=) ends the walk at the last trusted hop, the one that passed it on.
std::string client_address(std::string_view peer, std::string_view header, const std::vector<AddressRange>& trusted,
                           ForwardedHeader kind = ForwardedHeader::XForwardedFor);

}  // namespace raptor
