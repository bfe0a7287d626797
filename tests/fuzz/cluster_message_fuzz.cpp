// libFuzzer target for the messages nodes of a cluster read from Redis pub/sub (issue 20):
// cluster/cluster_message's decode and channel_of_key, and the engine's delivery of what they
// give. Redis is inside the trust boundary (docs/security.md), but a bug here would take down
// every node at once. scripts/fuzz builds and runs it; tests/fuzz/corpus/cluster_message/ holds seeds.
//
// Input: the Redis channel the message came on, '\n', the message. Checked: a key read as a
// channel is that channel's key; a decoded message's parts lie in the message and, for the kinds
// a node publishes (E, U, T), encode gives the message back; delivering it to a subscriber of the
// channel (and to a signed-in user of that id) leaves the engine sound.
#include <cstdint>
#include <string>
#include <string_view>

#include "cluster/cluster_message.h"
#include "fuzz_support.h"
#include "protocol/channel_name.h"

using namespace raptor;

namespace {

constexpr const char* kTarget = "cluster_message_fuzz";
constexpr std::string_view kPrefix = "raptor:";

std::string subscribe(std::string_view channel) {
  return "{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":" + json::quoted(channel) + "}}";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  size_t split = input.find('\n');
  if (split == std::string_view::npos) return 0;
  std::string_view key = input.substr(0, split), payload = input.substr(split + 1);

  const App app = fuzz::fuzz_app();
  auto channel = cluster::channel_of_key(kPrefix, app.id, key);
  if (channel) {
    FUZZ_CHECK(is_valid_channel_name(*channel));
    FUZZ_CHECK(cluster::channel_key(kPrefix, app.id, *channel) == key);
  }
  auto m = cluster::decode(payload);
  if (!m) return 0;
  for (std::string_view part : {m->origin, m->except_socket_id, m->text}) FUZZ_CHECK(fuzz::inside(part, payload));
  FUZZ_CHECK(!m->origin.empty());
  if (!m->from_redis) FUZZ_CHECK(cluster::encode(m->kind, m->origin, m->except_socket_id, m->text) == payload);
  if (!channel) return 0;

  fuzz::EngineFixture f;
  Connection* c = f.engine.open(f.apps.front(), nullptr);
  f.engine.on_message(*c, subscribe(*channel));
  std::string target(*channel);
  f.engine.deliver_from_cluster(m->kind, f.apps.front(), target, m->text, m->except_socket_id, m->version);
  f.engine.on_closed(c);
  return 0;
}
