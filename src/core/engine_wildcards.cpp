// The Engine's wildcard subscriptions (docs/channels.md): a connection subscribes to a pattern
// (galleries.*.comments, /channels/public/galleries/**) and receives every event published to a
// matching channel, once per subscription, with `channel` naming the pattern as it subscribed
// and `concrete_channel` the channel.
//
// A pattern's local subscribers sit in the worker's channel map under the pattern's name (no
// channel name has a `*`), and the ChannelDirectory keeps the app-wide index of patterns. A
// published event looks the index up once (ChannelDirectory::route); the matching patterns
// travel with the event to the workers that hold their subscribers, which find them by name.
// Patterns are not channels: they have no occupancy, counts, webhooks or cache replays.
#include "core/engine.h"

#include "protocol/channel_pattern.h"
#include "protocol/channel_resource.h"
#include "protocol/errors.h"
#include "protocol/messages.h"

namespace raptor {

bool Engine::pattern_admissible(Connection& c, const std::string& spelled, const std::string& pattern,
                                bool new_one) {
  auto refuse = [&](int status, ErrorCode error, std::string_view type_name, const std::string& why) {
    refuse_subscription(c, spelled, type_name, status, code(error), why);
    return false;
  };
  // Some kinds cannot be subscribed by pattern (presence channels have a roster each, which a
  // pattern cannot join; protocol/channel_kind.h says why for each). Told before the syntax,
  // which for these would only be a distraction.
  if (const ChannelKind& kind = channel_kind(pattern); kind.patterns != Patterns::Subscribe)
    return refuse(400, ErrorCode::InvalidChannel, "InvalidChannel", std::string(kind.no_patterns));
  if (auto why = wildcard_pattern_error(pattern))
    return refuse(400, ErrorCode::InvalidChannel, "InvalidChannel", "Invalid wildcard pattern: " + *why);
  if (new_one && c.subscriptions().patterns() >= kMaxPatternsPerConnection)
    return refuse(403, ErrorCode::LimitReached, "LimitReached",
                  "A connection may hold at most " + std::to_string(kMaxPatternsPerConnection) +
                      " wildcard subscriptions");
  return true;
}

void Engine::subscribe_pattern(Connection& c, const std::string& pattern, const std::string& spelled,
                               Subscription s) {
  const App& app = c.app();
  hub_.directory().pattern_subscribed(app, pattern, worker_);
  auto& slot = channels_of(app)[pattern];
  if (!slot) {
    slot = std::make_unique<Channel>(pattern);
    if (cluster_) cluster_->watch_pattern(app, pattern);  // before subscription_succeeded goes out
  }
  slot->add(&c, s.by_address);
  c.subscriptions().add(pattern, std::move(s));
  if (channel_kind(pattern).auth == ChannelAuth::Signature) c.set_authorized();
  send(c, messages::subscription_succeeded(spelled, "{}"));
}

void Engine::deliver_to_patterns(const App& app, const std::string& channel, std::string_view text,
                                 const Connection* except, const std::vector<std::string>& patterns) {
  Channels& channels = channels_of(app);
  std::optional<std::string> channel_address;  // computed for the first subscriber by address
  for (const std::string& pattern : patterns) {
    auto it = channels.find(pattern);
    if (it == channels.end()) continue;  // its subscribers are on other workers
    const Channel& subscribers = *it->second;
    // One frame per spelling, shared by the pattern's subscribers here.
    FramePtr by_name, by_address;
    if (subscribers.by_address() < subscribers.subscription_count())
      by_name = Frame::make(messages::for_pattern(text, channel, pattern, channel));
    if (subscribers.by_address()) {
      if (!channel_address) channel_address = resource_of_channel(channel).value_or(channel);
      by_address = Frame::make(messages::for_pattern(text, channel, *resource_of_channel(pattern), *channel_address));
    }
    for (Connection* s : subscribers.subscribers()) {
      if (s == except) continue;
      send(*s, by_address && (!by_name || s->subscriptions().find(pattern)->by_address) ? by_address : by_name);
    }
  }
}

void Engine::deliver_from_cluster_to_pattern(const App& app, const std::string& channel, const std::string& pattern,
                                             std::string_view text, std::string_view except_socket_id) {
  deliver_to_patterns(app, channel, text, connection_with(except_socket_id), {pattern});
}

}  // namespace raptor
