#include "config/webhook_spec.h"

#include <cctype>
#include <cstdlib>
#include <vector>

#include "common/name_resolver.h"
#include "common/text.h"

namespace raptor {
namespace {

bool printable(std::string_view s) {
  for (unsigned char ch : s)
    if (ch < 0x20 || ch == 0x7f) return false;
  return true;
}

std::optional<std::string> parse_url(std::string_view url, WebhookEndpoint& out) {
  std::string_view rest;
  if (url.substr(0, 7) == "http://") {
    out.tls = false, out.port = 80, rest = url.substr(7);
  } else if (url.substr(0, 8) == "https://") {
    out.tls = true, out.port = 443, rest = url.substr(8);
  } else {
    return "the URL must start with http:// or https://";
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  out.path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (!printable(out.path) || out.path.find(' ') != std::string::npos || out.path.find('#') != std::string::npos)
    return "the URL path must not contain spaces, control characters or a #fragment";
  if (authority.empty()) return "the URL has no host";
  if (authority.find('@') != std::string_view::npos)
    return "credentials in the URL are not supported; send them with header=Authorization:…";
  std::string_view host = authority, port;
  if (!authority.empty() && authority.front() == '[') {  // [IPv6]:port
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return "the URL has an unclosed [IPv6 address]";
    host = authority.substr(1, close - 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return "the URL has junk after its [IPv6 address]";
      port = authority.substr(close + 2);
    }
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (!port.empty() || authority.back() == ':') {
    std::string p(port);
    char* end = nullptr;
    long n = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end || n < 1 || n > 65535) return "the URL's port must be a number from 1 to 65535";
    out.port = int(n);
  }
  // localhost needs no lookup over http://; https:// keeps the name its certificate is checked against.
  out.host = host == "localhost" && !out.tls ? "127.0.0.1" : std::string(host);
  if (!NameResolver::is_address(out.host) && !NameResolver::is_host_name(out.host))
    return "the URL's host is neither an IP address (IPv6 in [ ]) nor a host name";
  return std::nullopt;
}

// Raptor writes these itself; a receiver's header= cannot replace them.
constexpr std::string_view kReservedHeaders[] = {"Content-Type", "Content-Length", "Host", "X-Pusher-Key",
                                                 "X-Pusher-Signature", "Connection", "Transfer-Encoding"};

std::optional<std::string> parse_header(std::string_view item, WebhookEndpoint& out) {
  size_t colon = item.find(':');
  if (colon == std::string_view::npos || colon == 0) return "header= needs Name:Value";
  std::string_view name = item.substr(0, colon), value = item.substr(colon + 1);
  while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  for (unsigned char ch : name)
    if (!std::isalnum(ch) && ch != '-' && ch != '_') return "a header name may only have letters, digits, - and _";
  for (std::string_view reserved : kReservedHeaders)
    if (iequals(name, reserved)) return "header " + std::string(reserved) + " is set by Raptor and cannot be replaced";
  if (!printable(value)) return "a header value must not contain control characters or line breaks";
  out.headers.emplace_back(std::string(name), std::string(value));
  return std::nullopt;
}

std::optional<std::string> parse_events(std::string_view list, WebhookEndpoint& out) {
  out.types = 0;
  for (std::string_view name : split_at(list, ',')) {
    auto type = webhook_type_named(name);
    if (!type)
      return "unknown event type '" + std::string(name) +
             "' (known: channel_occupied, channel_vacated, member_added, member_removed, client_event, cache_miss, "
             "subscription_count)";
    out.types |= webhook_type_bit(*type);
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> parse_webhook_spec(std::string_view spec, WebhookEndpoint& out) {
  auto items = split_at(spec, ';');
  WebhookParts parts;
  parts.url = std::string(items[0]);
  for (size_t i = 1; i < items.size(); ++i) {
    std::string_view item = items[i];
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq), value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    if (key == "events")
      for (std::string_view name : split_at(value, ',')) parts.events.emplace_back(name);
    else if (key == "prefix")
      parts.prefix = std::string(value);
    else if (key == "suffix")
      parts.suffix = std::string(value);
    else if (key == "header")
      parts.headers.emplace_back(value);
    else if (key == "ca")
      parts.ca_file = std::string(value);
    else if (key == "verify_tls" && (value == "on" || value == "off"))
      parts.verify_tls = value == "on";
    else if (key == "verify_tls")
      return "verify_tls= takes on or off";
    else
      return "part " + std::to_string(i) + " after the URL is none of events=, prefix=, suffix=, header=, ca=, verify_tls=";
  }
  return parse_webhook(parts, out);
}

std::optional<std::string> parse_webhook(const WebhookParts& parts, WebhookEndpoint& out) {
  out = WebhookEndpoint{};
  out.url = parts.url;
  if (auto why = parse_url(parts.url, out)) return why;
  if (!parts.events.empty()) {
    std::string list;
    for (const auto& name : parts.events) list += (list.empty() ? "" : ",") + name;
    if (auto why = parse_events(list, out)) return why;
  }
  out.channel_prefix = parts.prefix;
  out.channel_suffix = parts.suffix;
  for (const auto& header : parts.headers)
    if (auto why = parse_header(header, out)) return why;
  if (!out.tls && (!parts.ca_file.empty() || !parts.verify_tls)) return "ca and verify_tls are for https:// receivers";
  if (!parts.ca_file.empty() && !parts.verify_tls) return "ca and verify_tls off exclude each other: with a CA file the certificate is checked";
  if (!printable(parts.ca_file)) return "the ca file name must not contain control characters";
  out.ca_file = parts.ca_file;
  out.verify_tls = parts.verify_tls;
  return std::nullopt;
}

}  // namespace raptor
