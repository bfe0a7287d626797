#include "webhooks/webhook_stream_entry.h"

#include <cstdlib>

namespace raptor {
namespace {

constexpr const char* kVersion = "1";

const std::string* field(const StreamFields& fields, const char* name) {
  for (const auto& [n, v] : fields)
    if (n == name) return &v;
  return nullptr;
}

}  // namespace

StreamFields encode_stream_entry(const StreamedWebhook& w) {
  return {{"v", kVersion},
          {"app", w.app_id},
          {"type", std::string(webhook_type_name(w.type))},
          {"channel", w.channel},
          {"event", w.json},
          {"at", std::to_string(w.emitted_ms)},
          {"node", w.origin}};
}

std::optional<StreamedWebhook> decode_stream_entry(const StreamFields& fields, std::string& why) {
  const std::string* version = field(fields, "v");
  if (!version || *version != kVersion) {
    why = version ? "entry format version " + *version + " is not known here" : "no format version (v)";
    return std::nullopt;
  }
  for (const char* name : {"app", "type", "channel", "event", "at", "node"}) {
    if (!field(fields, name)) {
      why = std::string("no '") + name + "' field";
      return std::nullopt;
    }
  }
  StreamedWebhook w;
  auto type = webhook_type_named(*field(fields, "type"));
  if (!type) {
    why = "unknown event type '" + *field(fields, "type") + "'";
    return std::nullopt;
  }
  const std::string& at = *field(fields, "at");
  if (at.empty() || at.size() > 18 || at.find_first_not_of("0123456789") != std::string::npos) {
    why = "bad emission time '" + at + "'";
    return std::nullopt;
  }
  w.app_id = *field(fields, "app");
  if (w.app_id.empty()) {
    why = "empty app id";
    return std::nullopt;
  }
  w.type = *type;
  w.channel = *field(fields, "channel");
  w.json = *field(fields, "event");
  w.emitted_ms = std::strtoll(at.c_str(), nullptr, 10);
  w.origin = *field(fields, "node");
  return w;
}

}  // namespace raptor
