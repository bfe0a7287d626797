// libFuzzer target for the PROXY protocol header (protocol/proxy_header.h): the first bytes of
// every connection when --proxy-protocol is on, from whoever reaches the port. scripts/fuzz
// builds and runs it; tests/fuzz/corpus/proxy_header/ holds seeds.
//
// Checked: a header read in full is within the input and the bound; its address is one that
// reads back (inet_pton); every shorter beginning of a header that was read in full asks for
// more, and never reads as another header; a refusal says why.
#include <arpa/inet.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"
#include "protocol/proxy_header.h"

using namespace raptor;

namespace {

constexpr const char* kTarget = "proxy_header_fuzz";

bool is_address(const std::string& text) {
  unsigned char bytes[16];
  return inet_pton(AF_INET, text.c_str(), bytes) == 1 || inet_pton(AF_INET6, text.c_str(), bytes) == 1;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  proxy_header::Parsed p = proxy_header::parse(input);
  using Kind = proxy_header::Parsed::Kind;
  if (p.kind == Kind::Invalid) FUZZ_CHECK(!p.error.empty());
  if (p.kind != Kind::Done) return 0;
  FUZZ_CHECK(p.length > 0 && p.length <= input.size() && p.length <= proxy_header::kMostLength);
  FUZZ_CHECK(p.source.empty() || is_address(p.source));
  // Arriving a byte at a time, the same header needs more until its last byte.
  for (size_t n = 0; n < p.length; n += 1 + n / 8) FUZZ_CHECK(proxy_header::parse(input.substr(0, n)).kind == Kind::NeedMore);
  proxy_header::Parsed alone = proxy_header::parse(input.substr(0, p.length));
  FUZZ_CHECK(alone.kind == Kind::Done && alone.length == p.length && alone.source == p.source);
  return 0;
}
