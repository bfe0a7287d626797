// libFuzzer target for webhook receiver specs (issue 20): --webhook and RAPTOR_WEBHOOKS values,
// URL[;events=…][;prefix=…][;suffix=…][;header=Name:Value]…, and the parts raptor.rb gives.
// scripts/fuzz builds and runs it; tests/fuzz/corpus/webhook_spec/ holds seeds.
//
// Input: a spec. Checked: a refusal has a reason and never quotes a header value (they may be
// credentials: a marker put into each value must not show); an accepted spec has a port, a host, a path and headers free of line breaks.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/text.h"
#include "config/webhook_spec.h"
#include "fuzz_support.h"

using namespace raptor;

namespace {

constexpr const char* kTarget = "webhook_spec_fuzz";
constexpr std::string_view kMarker = "marker-of-a-header-value";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view spec(reinterpret_cast<const char*>(data), size);
  WebhookEndpoint endpoint;
  auto why = parse_webhook_spec(spec, endpoint);
  if (why) {
    FUZZ_CHECK(!why->empty());
    // Header values may be credentials: the same spec with a marker at the start of each value
    // must not show the marker in its reason (other parts, such as event names, may be shown).
    if (spec.find(kMarker) != std::string_view::npos) return 0;
    std::string marked;
    auto items = split_at(spec, ';');
    for (size_t i = 0; i < items.size(); ++i) {
      std::string_view item = items[i];
      if (i > 0) marked += ';';
      size_t colon = item.find(':');
      if (item.substr(0, 7) == "header=" && colon != std::string_view::npos)
        marked.append(item.substr(0, colon + 1)).append(kMarker).append(item.substr(colon + 1));
      else
        marked.append(item);
    }
    WebhookEndpoint ignored;
    auto marked_why = parse_webhook_spec(marked, ignored);
    FUZZ_CHECK(!marked_why || marked_why->find(kMarker) == std::string::npos);
    return 0;
  }
  // What the webhook client will connect to and write.
  FUZZ_CHECK(endpoint.port >= 1 && endpoint.port <= 65535);
  FUZZ_CHECK(!endpoint.host.empty());
  FUZZ_CHECK(!endpoint.path.empty() && endpoint.path[0] == '/');
  for (const auto& [name, value] : endpoint.headers) {
    FUZZ_CHECK(!name.empty());
    for (unsigned char ch : name + value) FUZZ_CHECK(ch >= 0x20 && ch != 0x7f);
  }
  return 0;
}
