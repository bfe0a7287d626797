#include "config/cluster_settings.h"

#include <unistd.h>

#include <random>

#include "common/name_resolver.h"

namespace raptor {
namespace {

bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
int hex_value(char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; }

// %XX escapes in the user and password (a password may need '@', ':' or '/').
std::optional<std::string> percent_decoded(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size() || !is_hex(s[i + 1]) || !is_hex(s[i + 2])) return std::nullopt;
    out += char(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
    i += 2;
  }
  return out;
}

// A whole decimal number in [min, max].
std::optional<int> number(std::string_view s, int min, int max) {
  if (s.empty() || s.size() > 6) return std::nullopt;
  int n = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + (c - '0');
  }
  if (n < min || n > max) return std::nullopt;
  return n;
}

// rediss:// options after '?': ca=FILE (PEM certificates to trust instead of the system's) and
// verify=none (no certificate check at all; for tests and private networks).
std::optional<std::string> parse_tls_options(std::string_view query, RedisAddress& a) {
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq), value = eq == std::string_view::npos ? "" : item.substr(eq + 1);
    if (!a.tls) return "options after '?' (ca=, verify=) are for rediss:// only";
    if (key == "ca") {
      auto file = percent_decoded(value);
      if (!file || file->empty()) return "ca= needs the path of a PEM file of CA certificates";
      a.ca_file = *file;
    } else if (key == "verify") {
      if (value != "none" && value != "full") return "verify= is full (the default) or none";
      a.verify = value == "full";
    } else {
      return "unknown option '" + std::string(key) + "' after '?' (known: ca=, verify=)";
    }
  }
  return std::nullopt;
}

}  // namespace

std::string RedisAddress::where() const {
  return (host.find(':') == std::string::npos ? host : "[" + host + "]") + ":" + std::to_string(port);
}

std::optional<std::string> parse_redis_url(std::string_view url, RedisAddress& out) {
  RedisAddress a;
  std::string_view rest;
  if (url.substr(0, 8) == "redis://")
    rest = url.substr(8);
  else if (url.substr(0, 9) == "rediss://")
    rest = url.substr(9), a.tls = true;
  else
    return "expected redis://host[:port][/db] (or rediss:// for TLS)";
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    if (auto why = parse_tls_options(rest.substr(q + 1), a)) return why;
    rest = rest.substr(0, q);
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view path = rest.substr(slash + 1);
    if (!path.empty()) {
      auto db = number(path, 0, 65535);
      if (!db) return "the database after the host must be a number (redis://host:port/0)";
      a.db = *db;
    }
  }
  if (size_t at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view credentials = authority.substr(0, at);
    authority = authority.substr(at + 1);
    size_t colon = credentials.find(':');
    auto user = percent_decoded(credentials.substr(0, colon));
    auto password = percent_decoded(colon == std::string_view::npos ? "" : credentials.substr(colon + 1));
    if (!user || !password) return "a bad %-escape in the user or password";
    if (colon == std::string_view::npos) {
      // redis://secret@host: the one word is the password, as redis-cli -u reads it
      a.password = *user;
    } else {
      a.user = *user;
      a.password = *password;
    }
    if (a.password.empty()) return "an empty password after ':' (leave out the '@' part for none)";
  }
  std::string_view host = authority, port;
  if (!authority.empty() && authority[0] == '[') {  // [::1]:6379
    size_t close = authority.find(']');
    if (close == std::string_view::npos) return "an IPv6 address needs its closing ']'";
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty() && after[0] != ':') return "expected ':port' after the IPv6 address";
    if (!after.empty()) port = after.substr(1);
    if (after == ":") return "the port must be a number from 1 to 65535";
  } else if (size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
    if (port.empty()) return "the port must be a number from 1 to 65535";
  }
  if (host.empty()) return "no host: expected redis://host[:port][/db]";
  a.host = std::string(host);
  if (!NameResolver::is_address(a.host) && !NameResolver::is_host_name(a.host))
    return "the host is neither an IP address (IPv6 in [ ]) nor a host name";
  // A plain connection needs no lookup for localhost; TLS keeps the name the certificate names.
  if (a.host == "localhost" && !a.tls) a.host = "127.0.0.1";
  if (!port.empty()) {
    auto p = number(port, 1, 65535);
    if (!p) return "the port must be a number from 1 to 65535";
    a.port = *p;
  }
  out = std::move(a);
  return std::nullopt;
}

std::optional<std::string> node_id_error(std::string_view id) {
  if (id.empty() || id.size() > 64) return "a node id has 1 to 64 characters";
  for (char c : id) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-';
    if (!ok) return "a node id is made of A-Z a-z 0-9 . _ -";
  }
  return std::nullopt;
}

std::optional<std::string> redis_prefix_error(std::string_view prefix) {
  if (prefix.empty() || prefix.size() > 64) return "a prefix has 1 to 64 characters";
  for (char c : prefix)
    if (c <= ' ' || c > '~') return "a prefix is printable ASCII without spaces";
  return std::nullopt;
}

std::string generate_node_id() {
  char host[64] = {};
  gethostname(host, sizeof host - 1);
  std::string id;
  for (const char* p = host; *p && id.size() < 40; ++p) id += node_id_error(std::string(1, *p)) ? '-' : *p;
  if (id.empty()) id = "node";
  static const char kHex[] = "0123456789abcdef";
  std::random_device random;
  id += '-';
  for (int i = 0; i < 8; ++i) id += kHex[random() % 16];
  return id;
}

std::optional<std::string> parse_node_timeout(std::string_view seconds, int& out) {
  if (auto n = number(seconds, ClusterSettings::kMinNodeTimeoutS, ClusterSettings::kMaxNodeTimeoutS)) {
    out = *n;
    return std::nullopt;
  }
  return "the node timeout is a whole number of seconds from " + std::to_string(ClusterSettings::kMinNodeTimeoutS) +
         " to " + std::to_string(ClusterSettings::kMaxNodeTimeoutS) +
         " (a node renews its lease about once a second)";
}

std::optional<std::string> parse_startup_wait(std::string_view seconds, int& out) {
  if (auto n = number(seconds, 0, ClusterSettings::kMaxStartupWaitS)) {
    out = *n;
    return std::nullopt;
  }
  return "the start-up wait is a whole number of seconds from 0 to " +
         std::to_string(ClusterSettings::kMaxStartupWaitS) +
         " (how long a node that cannot reach Redis at start-up waits before serving alone)";
}

}  // namespace raptor
