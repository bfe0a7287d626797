#include "core/admission.h"

#include "common/text.h"
#include "core/policy_hooks.h"
#include "core/policy_refusal.h"
#include "protocol/errors.h"

namespace raptor {
namespace {

// Parses a protocol query value as a whole decimal number.
std::optional<int> parse_version(std::string_view v) {
  if (v.empty() || v.size() > 6) return std::nullopt;
  int n = 0;
  for (char ch : v) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + (ch - '0');
  }
  return n;
}

// "https://*.example.com" allows "https://a.example.com" and "https://a.b.example.com".
bool under_wildcard(std::string_view entry, std::string_view origin) {
  size_t star = entry.find("://*.");
  if (star == std::string_view::npos) return false;
  std::string_view scheme = entry.substr(0, star + 3);  // "https://"
  std::string_view domain = entry.substr(star + 4);     // ".example.com"
  if (origin.size() <= scheme.size() + domain.size()) return false;
  if (!iequals(origin.substr(0, scheme.size()), scheme)) return false;
  std::string_view host = origin.substr(scheme.size());
  return iequals(host.substr(host.size() - domain.size()), domain) &&
         host.find_first_of("/@") == std::string_view::npos;
}

}  // namespace

bool origin_allowed(const App& app, std::optional<std::string_view> origin) {
  if (app.allowed_origins.empty() || !origin) return true;
  for (const std::string& entry : app.allowed_origins)
    if (iequals(entry, *origin) || under_wildcard(entry, *origin)) return true;
  return false;
}

const App* app_by_key(const AppList& apps, std::string_view key) {
  for (const auto& app : apps)
    if (app.key == key && !app.retired) return &app;
  return nullptr;
}

const App* app_by_id(const AppList& apps, std::string_view id) {
  for (const auto& app : apps)
    if (app.id == id && !app.retired) return &app;
  return nullptr;
}

Admission admit(const AppList& apps, Policy* policy, std::string_view path, std::optional<std::string_view> protocol,
                const Handshake* handshake, std::optional<std::string_view> origin, size_t default_max_connections,
                const AddressCheck* address) {
  constexpr std::string_view kPrefix = "/app/";
  if (!starts_with(path, kPrefix) || path.size() == kPrefix.size())
    return {nullptr, code(CloseCode::PathNotFound), "Path not found"};
  std::string_view key = path.substr(kPrefix.size());
  if (!key.empty() && key.back() == '/') key.remove_suffix(1);
  if (key.empty() || key.find('/') != std::string_view::npos)
    return {nullptr, code(CloseCode::PathNotFound), "Path not found"};
  if (!protocol) return {nullptr, code(CloseCode::NoVersion), "No protocol version supplied"};
  auto version = parse_version(*protocol);
  if (!version) return {nullptr, code(CloseCode::InvalidVersion), "Invalid version string format"};
  if (*version < 4 || *version > 7)
    return {nullptr, code(CloseCode::UnsupportedVersion), "Unsupported protocol version"};
  const App* app = app_by_key(apps, key);
  if (!app) return {nullptr, code(CloseCode::UnknownApp), "Application does not exist"};
  // 4009 rather than a 403 at the upgrade: pusher-js retries a failed upgrade for ever, but takes
  // 4009 as final (docs/security.md#origin-allow-list).
  if (!origin_allowed(*app, origin))
    // Cut: a close frame's reason holds 123 bytes at most.
    return {nullptr, code(CloseCode::Unauthorized), "Origin not allowed: " + std::string(origin->substr(0, 64))};
  size_t max = app->max_connections ? app->max_connections : default_max_connections;
  if (max && app->connections.open() >= max)
    return {nullptr, code(CloseCode::OverQuota), "Application is over connection quota"};
  ClientAddressLedger::Hold hold;
  if (address) {
    // 4100-4199: pusher-js retries after a second, by when a place or a token may be free.
    switch (address->ledger.take(address->address, address->now_ms, address->limits, hold)) {
      case ClientAddressLedger::Verdict::TooManyConnects:
        return {nullptr, code(CloseCode::AddressConnectRate), "Too many connects a second from your address"};
      case ClientAddressLedger::Verdict::TooManyConnections:
        return {nullptr, code(CloseCode::AddressConnections), "Too many connections from your address"};
      case ClientAddressLedger::Verdict::Admitted:
        break;
    }
  }
  if (handshake && policy && policy->has(*app, Policy::Hook::Admit)) {
    PolicyVerdict v = policy->admit(*app, *handshake);
    // 4009, Pusher's "connection is unauthorized": pusher-js does not reconnect on its own.
    if (v.kind == PolicyVerdict::Kind::Deny) return {nullptr, code(CloseCode::Unauthorized), policy_refusal("Connection", v)};
  }
  return {app, 0, {}, std::move(hold)};
}

bool wants_handshake(const AppList& apps, const Policy* policy) {
  for (const App& app : apps)
    if (handshake_use(policy, app) != HandshakeUse::None) return true;
  return false;
}

}  // namespace raptor
