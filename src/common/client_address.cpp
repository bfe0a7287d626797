#include "common/client_address.h"

#include <arpa/inet.h>

#include <cctype>
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

// `text` cut at each `separator` outside double quotes, each part trimmed.
std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts(1);
  bool quoted = false, escaped = false;
  for (char c : text) {
    if (escaped) {
      escaped = false;
    } else if (quoted && c == '\\') {
      escaped = true;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == separator && !quoted) {
      parts.emplace_back();
      continue;
    }
    parts.back() += c;
  }
  if (trimmed(text).empty()) parts.clear();
  for (auto& p : parts) p = std::string(trimmed(p));
  return parts;
}

// A Forwarded for= node as an address text: unquoted, without brackets or port. Whatever is not
// an address stays as it is, and fails to parse (unknown, _obfuscated).
std::string node_address(std::string value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
    std::string unquoted;
    for (size_t i = 1; i + 1 < value.size(); ++i) {
      if (value[i] == '\\' && i + 2 < value.size()) ++i;
      unquoted += value[i];
    }
    value = unquoted;
  }
  if (!value.empty() && value.front() == '[') {
    size_t close = value.find(']');
    return close == std::string::npos ? value : value.substr(1, close - 1);
  }
  size_t colon = value.find(':');
  if (colon != std::string::npos && value.find(':', colon + 1) == std::string::npos) value.resize(colon);  // a.b.c.d:port
  return value;
}

// The for= node of each Forwarded element, in order; "" for an element without one.
std::vector<std::string> forwarded_nodes(std::string_view header) {
  std::vector<std::string> nodes;
  for (const std::string& element : split(header, ',')) {
    std::string node;
    for (const std::string& pair : split(element, ';')) {
      size_t eq = pair.find('=');
      std::string name = pair.substr(0, eq == std::string::npos ? pair.size() : eq);
      for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
      if (eq != std::string::npos && trimmed(name) == "for") node = node_address(std::string(trimmed(pair.substr(eq + 1))));
    }
    nodes.push_back(node);
  }
  return nodes;
}

}  // namespace

std::optional<AddressRange> parse_address_range(std::string_view text) {
  text = trimmed(text);
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

std::optional<ForwardedHeader> forwarded_header_named(std::string_view name) {
  auto is = [name](std::string_view expected) {
    if (name.size() != expected.size()) return false;
    for (size_t i = 0; i < name.size(); ++i)
      if (std::tolower(static_cast<unsigned char>(name[i])) != expected[i]) return false;
    return true;
  };
  if (is("x-forwarded-for")) return ForwardedHeader::XForwardedFor;
  if (is("forwarded")) return ForwardedHeader::Forwarded;
  return std::nullopt;
}

std::string client_address(std::string_view peer, std::string_view header, const std::vector<AddressRange>& trusted,
                           ForwardedHeader kind) {
  if (!in_ranges(peer, trusted)) return std::string(peer);
  std::string hop(peer);  // the nearest trusted hop so far
  std::vector<std::string> hops = kind == ForwardedHeader::Forwarded ? forwarded_nodes(header) : split(header, ',');
  for (auto entry = hops.rbegin(); entry != hops.rend(); ++entry) {
    auto address = parse_address(*entry);
    if (!address) break;
    hop = std::string(trimmed(*entry));
    if (!trusted_address(*address, trusted)) break;
  }
  return hop;
}

}  // namespace raptor
