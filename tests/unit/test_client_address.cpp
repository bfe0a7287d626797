// client_address: the address raptor.rb's hooks see as remote_address behind trusted proxies.
#include "common/client_address.h"

#include "support.h"

using namespace raptor;

namespace {
std::vector<AddressRange> ranges(std::initializer_list<const char*> texts) {
  std::vector<AddressRange> out;
  for (const char* t : texts) out.push_back(*parse_address_range(t));
  return out;
}
}  // namespace

TEST_CASE("address ranges are IPv4 or IPv6 networks or single addresses", "[client-address]") {
  CHECK(parse_address_range("127.0.0.1/32"));
  CHECK(parse_address_range("10.0.0.0/8"));
  CHECK(parse_address_range("::1"));
  CHECK(parse_address_range("fd00::/8"));
  CHECK(parse_address_range("192.168.1.7"));
  CHECK_FALSE(parse_address_range(""));
  CHECK_FALSE(parse_address_range("10.0.0.0/33"));
  CHECK_FALSE(parse_address_range("::/129"));
  CHECK_FALSE(parse_address_range("10.0.0.0/"));
  CHECK_FALSE(parse_address_range("10.0.0.0/8x"));
  CHECK_FALSE(parse_address_range("localhost"));
  CHECK_FALSE(parse_address_range("10.0.0/8"));
}

TEST_CASE("membership follows the prefix, and an IPv4-mapped IPv6 peer is its IPv4 address", "[client-address]") {
  auto trusted = ranges({"10.0.0.0/8", "192.168.1.0/25", "fd00::/8"});
  CHECK(in_ranges("10.200.3.4", trusted));
  CHECK(in_ranges("192.168.1.127", trusted));
  CHECK_FALSE(in_ranges("192.168.1.128", trusted));
  CHECK_FALSE(in_ranges("11.0.0.1", trusted));
  CHECK(in_ranges("fd12::1", trusted));
  CHECK_FALSE(in_ranges("fe80::1", trusted));
  CHECK(in_ranges("::ffff:10.1.2.3", trusted));
  CHECK_FALSE(in_ranges("not an address", trusted));
  CHECK(in_ranges("203.0.113.9", ranges({"0.0.0.0/0"})));
}

TEST_CASE("an untrusted peer is the client, whatever X-Forwarded-For it sends", "[client-address]") {
  CHECK(client_address("203.0.113.7", "198.51.100.1", ranges({"127.0.0.1/32"})) == "203.0.113.7");
  CHECK(client_address("127.0.0.1", "198.51.100.1", {}) == "127.0.0.1");
}

TEST_CASE("behind trusted proxies the right-most untrusted X-Forwarded-For entry is the client", "[client-address]") {
  auto trusted = ranges({"127.0.0.1/32", "10.0.0.0/8"});
  CHECK(client_address("127.0.0.1", "198.51.100.1", trusted) == "198.51.100.1");
  // A client's own X-Forwarded-For comes first; the proxy appends the address it saw.
  CHECK(client_address("127.0.0.1", "6.6.6.6, 198.51.100.1", trusted) == "198.51.100.1");
  // Two proxies: the load balancer (10.x) passed it to nginx on loopback.
  CHECK(client_address("127.0.0.1", "6.6.6.6,198.51.100.1, 10.1.1.1", trusted) == "198.51.100.1");
  CHECK(client_address("127.0.0.1", " 2001:db8::5 ", trusted) == "2001:db8::5");
  // Nothing forwarded: the proxy itself.
  CHECK(client_address("127.0.0.1", "", trusted) == "127.0.0.1");
  // Only trusted hops: the farthest of them.
  CHECK(client_address("127.0.0.1", "10.0.0.9, 10.0.0.8", trusted) == "10.0.0.9");
  // Not an address: the hop that passed it on.
  CHECK(client_address("127.0.0.1", "198.51.100.1, garbage", trusted) == "127.0.0.1");
  CHECK(client_address("127.0.0.1", "garbage, 10.0.0.8", trusted) == "10.0.0.8");
}

TEST_CASE("with --forwarded-header forwarded the for= nodes of RFC 7239 Forwarded are the hops", "[client-address]") {
  auto trusted = ranges({"127.0.0.1/32", "10.0.0.0/8", "fd00::/8"});
  auto via_forwarded = [&](std::string_view peer, std::string_view header) {
    return client_address(peer, header, trusted, ForwardedHeader::Forwarded);
  };
  CHECK(via_forwarded("127.0.0.1", "for=198.51.100.1") == "198.51.100.1");
  // Names, parameters and quotes as RFC 7239 §4 and §7.1 write them.
  CHECK(via_forwarded("127.0.0.1", "For=\"[2001:db8:cafe::17]:4711\";proto=https") == "2001:db8:cafe::17");
  CHECK(via_forwarded("127.0.0.1", "for=\"[2001:db8::5]\"") == "2001:db8::5");
  CHECK(via_forwarded("127.0.0.1", "proto=https;for=\"192.0.2.43:47011\";by=10.0.0.1") == "192.0.2.43");
  // Several elements (one per proxy, or several fields joined with ','): the right-most untrusted.
  CHECK(via_forwarded("127.0.0.1", "for=6.6.6.6, for=198.51.100.1;proto=https, for=10.1.1.1") == "198.51.100.1");
  CHECK(via_forwarded("127.0.0.1", "for=198.51.100.1, for=\"[fd00::7]:80\"") == "198.51.100.1");
  // A quoted comma or semicolon belongs to its value.
  CHECK(via_forwarded("127.0.0.1", "for=198.51.100.1, for=\"_a,b;c\"") == "127.0.0.1");
  // Not an address (unknown, obfuscated, no for=): the hop that passed it on.
  CHECK(via_forwarded("127.0.0.1", "for=unknown") == "127.0.0.1");
  CHECK(via_forwarded("127.0.0.1", "for=_hidden, for=10.0.0.8") == "10.0.0.8");
  CHECK(via_forwarded("127.0.0.1", "proto=https") == "127.0.0.1");
  CHECK(via_forwarded("127.0.0.1", "") == "127.0.0.1");
  // From an untrusted peer, nothing in it counts.
  CHECK(via_forwarded("203.0.113.7", "for=198.51.100.1") == "203.0.113.7");
}

TEST_CASE("the forwarded header is named x-forwarded-for or forwarded, in any case", "[client-address]") {
  CHECK(forwarded_header_named("X-Forwarded-For") == ForwardedHeader::XForwardedFor);
  CHECK(forwarded_header_named("forwarded") == ForwardedHeader::Forwarded);
  CHECK_FALSE(forwarded_header_named("x-real-ip"));
  CHECK_FALSE(forwarded_header_named(""));
}
