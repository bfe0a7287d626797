// A webhook receiver as given on the command line or in RAPTOR_WEBHOOKS:
//   URL[;events=TYPE,TYPE…][;prefix=P][;suffix=S][;header=Name:Value]…[;ca=FILE][;verify_tls=off]
// URL is http:// or https:// with an IP address ([IPv6]) or a host name, looked up before each
// POST (docs/webhooks.md, "Host names"). Without events= every type but subscription_count is sent; prefix= and suffix= keep only channels whose names
// start / end with them; header= (repeatable) adds a header to every POST. For https:// only:
// ca= names a PEM CA bundle to trust instead of the system's (checked by the configuration,
// config/tls_files.h, not here), verify_tls=off turns the certificate check off.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/webhook_endpoint.h"

namespace raptor {

// Fills `out`; on a bad spec returns why, in words that never repeat header values (they may be
// credentials).
std::optional<std::string> parse_webhook_spec(std::string_view spec, WebhookEndpoint& out);

// The same receiver given in parts, as the Ruby config file's `webhook` gives it (so that a header
// value may hold a ';'). Empty `events` means the default types; headers are "Name: Value".
struct WebhookParts {
  std::string url;
  std::vector<std::string> events;
  std::string prefix, suffix;
  std::vector<std::string> headers;
  std::string ca_file;  // empty: the system's CAs
  bool verify_tls = true;
};
std::optional<std::string> parse_webhook(const WebhookParts& parts, WebhookEndpoint& out);

}  // namespace raptor
