// A receiver of an app's webhooks: where to POST, which events it wants and extra headers.
// Filled by the configuration (config/webhook_spec.h), read by webhooks/ and net/.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/webhook_sink.h"

namespace raptor {

struct WebhookEndpoint {
  std::string url;  // as configured
  // The URL's parts. The host is an IP address or a host name, which net/WebhookClient looks up
  // before each POST without blocking (http://localhost is taken as 127.0.0.1).
  bool tls = false;
  std::string host;
  int port = 80;
  std::string path = "/";
  uint32_t types = kDefaultWebhookTypes;  // webhook_type_bit() of each wanted type
  std::string channel_prefix;         // only channels that start with it (when set)
  std::string channel_suffix;         // only channels that end with it (when set)
  std::vector<std::pair<std::string, std::string>> headers;  // sent with every POST
  // https:// only. ca_file: a PEM bundle trusted for this receiver instead of the system's CAs
  // (a private CA). verify_tls false: its certificate is not checked at all (logged at start).
  std::string ca_file;
  bool verify_tls = true;

  bool wants(WebhookType type, std::string_view channel) const {
    return (types & webhook_type_bit(type)) && channel.substr(0, channel_prefix.size()) == channel_prefix &&
           channel.size() >= channel_suffix.size() &&
           channel.substr(channel.size() - channel_suffix.size()) == channel_suffix;
  }
  // "http://host:port": what logs show, since the path or headers may carry tokens.
  std::string origin() const {
    return (tls ? "https://" : "http://") + (host.find(':') == std::string::npos ? host : "[" + host + "]") + ":" +
           std::to_string(port);
  }

  // The same receiver with the same choice of events, headers and TLS trust (a reload keeps its outbox).
  bool operator==(const WebhookEndpoint& o) const {
    return url == o.url && types == o.types && channel_prefix == o.channel_prefix &&
           channel_suffix == o.channel_suffix && headers == o.headers && ca_file == o.ca_file &&
           verify_tls == o.verify_tls;
  }
  bool operator!=(const WebhookEndpoint& o) const { return !(*this == o); }
};

}  // namespace raptor
