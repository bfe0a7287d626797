#include "protocol/proxy_header.h"

#include <arpa/inet.h>

#include <cstdint>
#include <cstring>

namespace raptor::proxy_header {
namespace {

constexpr std::string_view kV1Start = "PROXY ";
constexpr size_t kV1Most = 107;  // the spec's bound, "\r\n" included
constexpr std::string_view kV2Signature{"\r\n\r\n\0\r\nQUIT\n", 12};

Parsed invalid(std::string why) {
  Parsed p;
  p.kind = Parsed::Kind::Invalid;
  p.error = std::move(why);
  return p;
}

Parsed done(size_t length, std::string source) {
  Parsed p;
  p.kind = Parsed::Kind::Done;
  p.length = length;
  p.source = std::move(source);
  return p;
}

// Whether what has arrived is still a beginning of `whole`.
bool begins(std::string_view bytes, std::string_view whole) {
  return whole.substr(0, bytes.size()) == bytes.substr(0, whole.size());
}

std::string_view next_word(std::string_view& rest) {
  size_t space = rest.find(' ');
  std::string_view word = rest.substr(0, space);
  rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
  return word;
}

bool is_port(std::string_view text) {
  if (text.empty() || text.size() > 5 || (text.size() > 1 && text[0] == '0')) return false;
  unsigned value = 0;
  for (char ch : text) {
    if (ch < '0' || ch > '9') return false;
    value = value * 10 + unsigned(ch - '0');
  }
  return value <= 65535;
}

// The address in `text` when it is one of family `family`, in inet_ntop's spelling.
std::string address_of(int family, std::string_view text) {
  char copy[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof copy) return {};
  memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  unsigned char bytes[16];
  char out[INET6_ADDRSTRLEN];
  if (inet_pton(family, copy, bytes) != 1 || !inet_ntop(family, bytes, out, sizeof out)) return {};
  return out;
}

Parsed parse_v1(std::string_view bytes) {
  size_t end = bytes.find("\r\n");
  if (end == std::string_view::npos)
    return bytes.size() >= kV1Most ? invalid("a version 1 header longer than 107 bytes") : Parsed{};
  if (end + 2 > kV1Most) return invalid("a version 1 header longer than 107 bytes");
  std::string_view rest = bytes.substr(kV1Start.size(), end - kV1Start.size());
  std::string_view family = next_word(rest);
  if (family == "UNKNOWN") return done(end + 2, {});  // the proxy's own connection, a health check
  int af = family == "TCP4" ? AF_INET : family == "TCP6" ? AF_INET6 : -1;
  if (af < 0) return invalid("a version 1 header with protocol '" + std::string(family.substr(0, 16)) + "'");
  std::string source = address_of(af, next_word(rest));
  std::string destination = address_of(af, next_word(rest));
  std::string_view source_port = next_word(rest), destination_port = next_word(rest);
  if (source.empty() || destination.empty() || !is_port(source_port) || !is_port(destination_port) || !rest.empty())
    return invalid("a version 1 header that is not 'PROXY " + std::string(family) + " SOURCE DESTINATION PORT PORT'");
  return done(end + 2, source);
}

Parsed parse_v2(std::string_view bytes) {
  if (bytes.size() < 16) return {};
  auto byte = [&](size_t at) { return uint8_t(bytes[at]); };
  if (byte(12) >> 4 != 2) return invalid("a version 2 header of version " + std::to_string(byte(12) >> 4));
  int command = byte(12) & 0xF;
  if (command > 1) return invalid("a version 2 header with command " + std::to_string(command));
  size_t length = 16 + (size_t(byte(14)) << 8 | byte(15));
  if (length > kMostLength) return invalid("a version 2 header of " + std::to_string(length) + " bytes");
  if (bytes.size() < length) return {};
  if (command == 0) return done(length, {});  // LOCAL: the proxy's own connection, a health check
  int family = byte(13) >> 4;
  int af = family == 1 ? AF_INET : family == 2 ? AF_INET6 : 0;
  if (!af) return done(length, {});  // UNSPEC or a unix socket: no client address to take
  size_t address_bytes = af == AF_INET ? 4 : 16;
  if (length - 16 < 2 * address_bytes + 4) return invalid("a version 2 header too short for its addresses");
  char out[INET6_ADDRSTRLEN];
  if (!inet_ntop(af, bytes.data() + 16, out, sizeof out)) return invalid("a version 2 header's source address");
  return done(length, out);
}

}  // namespace

Parsed parse(std::string_view bytes) {
  if (bytes.empty()) return {};
  if (begins(bytes, kV1Start)) return bytes.size() <= kV1Start.size() ? Parsed{} : parse_v1(bytes);
  if (begins(bytes, kV2Signature)) return bytes.size() < kV2Signature.size() ? Parsed{} : parse_v2(bytes);
  return invalid("no PROXY protocol header");
}

}  // namespace raptor::proxy_header
