// Whether a WebSocket request may become a connection: the path (/app/{key}), the protocol
// version (4 to 7), an app that is served (not retired by a reload), the app's Origin allow-list,
// its connection quota on this node, the client address's connects a second and connections
// (core/client_address_ledger.h), and the policy's admit hook.
// Each refusal carries Pusher's close code (docs/protocol.md#close-codes). Also which apps the
// request can name, and whether the transport must keep handshakes for the policy's hooks.
// Reads the app list and asks the policy, on the worker's thread; takes the address's place in
// the process's ledger, which the admitted connection keeps.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/app.h"
#include "core/client_address_ledger.h"
#include "core/policy.h"

namespace raptor {

// Result of looking at a WebSocket request before admitting it.
struct Admission {
  const App* app = nullptr;  // set when admitted
  int close_code = 0;        // else the close code and why
  std::string reason;
  ClientAddressLedger::Hold address_hold{};  // the connection's place among its address's
};

// The client's address and where it is counted, for the per-address limits.
struct AddressCheck {
  ClientAddressLedger& ledger;
  std::string_view address;
  int64_t now_ms;
  AddressLimits limits;
};

// The served app with this key or id, or null.
const App* app_by_key(const AppList& apps, std::string_view key);
const App* app_by_id(const AppList& apps, std::string_view id);

// Decides on a request for `path` with the `protocol` query value (nullopt when absent) and the
// `origin` header (nullopt when absent); with a handshake and a policy, the policy's admit hook
// has its say too. `default_max_connections` applies to apps that set no max_connections. With
// `address`, the client address's limits apply before the hook (which they spare), after the
// app's own checks: a connect counts against its address's rate once its app is known.
Admission admit(const AppList& apps, Policy* policy, std::string_view path, std::optional<std::string_view> protocol,
                const Handshake* handshake, std::optional<std::string_view> origin = std::nullopt,
                size_t default_max_connections = 0, const AddressCheck* address = nullptr);

// Whether `origin` ("https://app.example.com") is one the app allows: every origin when its
// list is empty; else one equal to an entry (case aside), or under a "scheme://*.domain" entry's
// domain (a subdomain at any depth, not the domain itself). A request without an Origin header
// is not from a browser page, which is all the list can tell apart, and is let through.
bool origin_allowed(const App& app, std::optional<std::string_view> origin);

// Whether `policy` has a hook that reads handshakes for some app (core/policy_hooks.h).
bool wants_handshake(const AppList& apps, const Policy* policy);

}  // namespace raptor
