#include "common/client_address.h"

#include <arpa/inet.h>

#include <cstring>

namespace raptor {
namespace {

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// An address as bytes; an IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack socket
// shows for an IPv4 peer) is read as the IPv4 address it carries.
std::optional<AddressRange> parse_address(std::string_view text) {
  std::string s(trimmed(text));
  AddressRange a;
  if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) == 1) {
    a.prefix = 32;
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) return std::nullopt;
  static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(a.bytes.data(), kMapped, sizeof kMapped) == 0) {
    std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
    std::memset(a.bytes.data() + 4, 0, 12);
    a.prefix = 32;
    return a;
  }
  a.v6 = true;
  a.prefix = 128;
  return a;
}

bool contains(const AddressRange& range, const AddressRange& address) {
  if (range.v6 != address.v6) return false;
  int full = range.prefix / 8, rest = range.prefix % 8;
  if (std::memcmp(range.bytes.data(), address.bytes.data(), size_t(full)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = uint8_t(0xff << (8 - rest));
  return (range.bytes[size_t(full)] & mask) == (address.bytes[size_t(full)] & mask);
}

bool trusted_address(const AddressRange& address, const std::vector<AddressRange>& ranges) {
  for (const auto& r : ranges)
    if (contains(r, address)) return true;
  return false;
}

}  // namespace

std::optional<AddressRange> parse_address_range(std::string_view text) {
  size_t slash = text.find('/');
  auto range = parse_address(text.substr(0, slash));
  if (!range || slash == std::string_view::npos) return range;
  std::string_view bits = text.substr(slash + 1);
  int max = range->v6 ? 128 : 32, prefix = 0;
  if (bits.empty() || bits.size() > 3) return std::nullopt;
  for (char c : bits) {
    if (c < '0' || c > '9') return std::nullopt;
    prefix = prefix * 10 + (c - '0');
  }
  if (prefix > max) return std::nullopt;
  range->prefix = prefix;
  return range;
}

bool in_ranges(std::string_view address, const std::vector<AddressRange>& ranges) {
  auto a = parse_address(address);
  return a && trusted_address(*a, ranges);
}

std::string client_address(std::string_view peer, std::string_view x_forwarded_for,
                           const std::vector<AddressRange>& trusted) {
  if (!in_ranges(peer, trusted)) return std::string(peer);
  std::string_view hop = peer;  // the nearest trusted hop so far
  std::string_view rest = x_forwarded_for;
  while (!trimmed(rest).empty()) {
    size_t comma = rest.rfind(',');
    std::string_view entry = trimmed(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    auto address = parse_address(entry);
    if (!address) break;
    hop = entry;
    if (!trusted_address(*address, trusted)) break;
  }
  return std::string(hop);
}

}  // namespace raptor
