// protocol/proxy_header: HAProxy's PROXY protocol, versions 1 and 2, as load balancers send it.
#include "protocol/proxy_header.h"

#include <catch2/catch.hpp>

#include <string>

using namespace raptor;
using Kind = proxy_header::Parsed::Kind;

namespace {

const std::string kSignature{"\r\n\r\n\0\r\nQUIT\n", 12};

// A version 2 header: command (0 LOCAL, 1 PROXY), family byte, then `body`.
std::string v2(int command, int family, const std::string& body) {
  std::string h = kSignature;
  h += char(0x20 | command);
  h += char(family);
  h += char(body.size() >> 8);
  h += char(body.size() & 0xFF);
  return h + body;
}

}  // namespace

TEST_CASE("proxy header version 1: the source address of TCP4 and TCP6, and the length to take off", "[proxy_header]") {
  std::string h = "PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\n";
  auto p = proxy_header::parse(h + "GET / HTTP/1.1\r\n");
  REQUIRE(p.kind == Kind::Done);
  CHECK(p.source == "203.0.113.7");
  CHECK(p.length == h.size());
  p = proxy_header::parse("PROXY TCP6 2001:db8::7 2001:db8::1 51234 443\r\n");
  REQUIRE(p.kind == Kind::Done);
  CHECK(p.source == "2001:db8::7");
  p = proxy_header::parse("PROXY UNKNOWN whatever follows\r\n");
  REQUIRE(p.kind == Kind::Done);
  CHECK(p.source.empty());
}

TEST_CASE("proxy header: a header still arriving needs more, byte by byte", "[proxy_header]") {
  std::string h = "PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\n";
  for (size_t n = 0; n < h.size(); ++n) CHECK(proxy_header::parse(h.substr(0, n)).kind == Kind::NeedMore);
  std::string b = v2(1, 0x11, std::string("\xCB\x00\x71\x07\x0A\x00\x00\x01\xC8\x22\x01\xBB", 12));
  for (size_t n = 0; n < b.size(); ++n) CHECK(proxy_header::parse(b.substr(0, n)).kind == Kind::NeedMore);
  CHECK(proxy_header::parse(b).kind == Kind::Done);
}

TEST_CASE("proxy header version 2: PROXY over TCP4 and TCP6 with TLVs after, LOCAL, unix sockets", "[proxy_header]") {
  std::string tlv("\x04\x00\x03xyz", 6);  // a TLV the header may carry: skipped with the rest
  auto p = proxy_header::parse(v2(1, 0x11, std::string("\xCB\x00\x71\x07\x0A\x00\x00\x01\xC8\x22\x01\xBB", 12) + tlv) +
                               "\x16\x03\x01");  // a TLS ClientHello follows
  REQUIRE(p.kind == Kind::Done);
  CHECK(p.source == "203.0.113.7");
  CHECK(p.length == 16 + 12 + tlv.size());
  std::string six(36, '\0');
  six[0] = char(0x20), six[1] = char(0x01), six[2] = char(0x0d), six[3] = char(0xb8), six[15] = char(0x07);
  p = proxy_header::parse(v2(1, 0x21, six));
  REQUIRE(p.kind == Kind::Done);
  CHECK(p.source == "2001:db8::7");
  p = proxy_header::parse(v2(0, 0x00, ""));
  REQUIRE(p.kind == Kind::Done);
  CHECK(p.source.empty());
  CHECK(p.length == 16);
  p = proxy_header::parse(v2(1, 0x31, std::string(216, 'x')));  // AF_UNIX: no address to take
  REQUIRE(p.kind == Kind::Done);
  CHECK(p.source.empty());
}

TEST_CASE("proxy header: what is not one is refused with a reason", "[proxy_header]") {
  const std::string refused[] = {
      "GET / HTTP/1.1\r\n",                                   // a client that skipped the proxy
      "\x16\x03\x01\x02\x00",                                 // TLS straight away
      "PROXY TCP5 203.0.113.7 10.0.0.1 51234 443\r\n",        // no such protocol
      "PROXY TCP4 203.0.113.7 10.0.0.1 51234\r\n",            // a port missing
      "PROXY TCP4 203.0.113.7 10.0.0.1 51234 443 extra\r\n",  // one word too many
      "PROXY TCP4 2001:db8::7 10.0.0.1 51234 443\r\n",        // an IPv6 address for TCP4
      "PROXY TCP4 203.0.113.7 10.0.0.1 65536 443\r\n",        // no such port
      "PROXY TCP4 203.0.113.7 10.0.0.1 051234 443\r\n",       // a leading zero
      "PROXY TCP4 " + std::string(120, '1'),                  // longer than 107 bytes without an end
      v2(2, 0x11, std::string(12, '\0')),                     // no such command
      v2(1, 0x11, std::string(8, '\0')),                      // too short for two IPv4 addresses
      v2(1, 0x21, std::string(20, '\0')),                     // too short for two IPv6 addresses
      kSignature + "\x10\x11\x00\x0C" + std::string(12, '\0'),  // version 1 in the binary form
      kSignature + "\x21\x11\xFF\xFF",                          // 65,551 bytes announced
  };
  for (const std::string& bytes : refused) {
    INFO(bytes);
    auto p = proxy_header::parse(bytes);
    CHECK(p.kind == Kind::Invalid);
    CHECK_FALSE(p.error.empty());
  }
}
