// The PROXY protocol header (HAProxy's spec, versions 1 and 2) that a TCP load balancer writes
// before the client's bytes to say whom the connection is from: "PROXY TCP4 203.0.113.7
// 10.0.0.1 51234 443\r\n", or the binary version 2 form. Read by the arrival of each connection
// when --proxy-protocol is on (docs/reverse-proxy.md#proxy-protocol).
#pragma once
#include <cstddef>
#include <string>
#include <string_view>

namespace raptor::proxy_header {

// Version 1 is at most 107 bytes; version 2's is 16 plus what its length field says, which we
// take up to this bound (addresses, then TLVs that we skip).
constexpr size_t kMostLength = 16 + 1024;

struct Parsed {
  enum class Kind { NeedMore, Invalid, Done };
  Kind kind = Kind::NeedMore;
  size_t length = 0;   // Done: the header's bytes, which come off the socket before the client's
  std::string source;  // Done: the client's address as text; empty for LOCAL / UNKNOWN (a health check)
  std::string error;   // Invalid: why, for the log
};

// Reads the header from the start of `bytes` (what has arrived so far).
Parsed parse(std::string_view bytes);

}  // namespace raptor::proxy_header
