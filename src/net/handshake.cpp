#include "net/handshake.h"

#include <libwebsockets.h>

#include <cctype>
#include <string>

namespace raptor::net {
namespace {

// Headers are at most info.max_http_header_data (8 KB) together.
std::string header(lws* wsi, enum lws_token_indexes token) {
  char value[8192];
  int n = lws_hdr_copy(wsi, value, sizeof value, token);
  return n > 0 ? std::string(value, size_t(n)) : std::string();
}

}  // namespace

std::string websocket_client_address(lws* wsi, const std::optional<std::string>& bridged_peer,
                                     const std::vector<AddressRange>& trusted, ForwardedHeader kind) {
  char address[64] = "";
  if (!bridged_peer) lws_get_peer_simple(wsi, address, sizeof address);
  std::string peer = bridged_peer ? *bridged_peer : address;
  if (trusted.empty()) return peer;
  std::string hops;
  if (kind == ForwardedHeader::XForwardedFor) {
    hops = header(wsi, WSI_TOKEN_X_FORWARDED_FOR);
  } else {
    // Not one of the headers lws knows by name: kept as a custom header.
    char value[8192];
    int n = lws_hdr_custom_copy(wsi, value, sizeof value, "forwarded:", 10);
    if (n > 0) hops.assign(value, size_t(n));
  }
  return client_address(peer, hops, trusted, kind);
}

std::unique_ptr<Handshake> read_handshake(lws* wsi, std::string remote_address) {
  auto h = std::make_unique<Handshake>();
  h->path = header(wsi, WSI_TOKEN_GET_URI);
  h->origin = header(wsi, WSI_TOKEN_ORIGIN);
  h->remote_address = std::move(remote_address);
  // Query arguments arrive url-decoded, one fragment each: "name=value".
  char arg[1024];
  for (int i = 0; lws_hdr_copy_fragment(wsi, arg, sizeof arg, WSI_TOKEN_HTTP_URI_ARGS, i) > 0; ++i) {
    std::string fragment(arg);
    size_t eq = fragment.find('=');
    if (eq == std::string::npos)
      h->params.emplace_back(fragment, "");
    else
      h->params.emplace_back(fragment.substr(0, eq), fragment.substr(eq + 1));
  }
  // Every header libwebsockets knows by name ("origin:", "cookie:", "x-forwarded-for:", …).
  for (int t = 0; t < WSI_TOKEN_COUNT; ++t) {
    auto token = static_cast<enum lws_token_indexes>(t);
    const char* name = reinterpret_cast<const char*>(lws_token_to_string(token));
    if (!name || lws_hdr_total_length(wsi, token) <= 0) continue;
    std::string n(name);
    if (n.empty() || n.back() != ':') continue;  // "get ", "post ": the request line, not headers
    n.pop_back();
    for (char& ch : n) ch = char(std::tolower(static_cast<unsigned char>(ch)));
    h->headers.emplace_back(n, header(wsi, token));
  }
  return h;
}

}  // namespace raptor::net
