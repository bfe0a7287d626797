#include "core/fan_out.h"

#include <optional>

#include "protocol/channel_resource.h"
#include "protocol/messages.h"

namespace raptor {

void FanOut::deliver_local(const App& app, const std::string& channel, std::string_view text,
                           const Connection* except, std::string_view except_socket_id, uint64_t roster_version,
                           const std::vector<std::string>* patterns) {
  Channels& channels = channels_[&app];
  auto it = channels.find(channel);
  if (it == channels.end() && !patterns) return;
  if (!except) except = connections_.with(except_socket_id);
  if (patterns) deliver_to_patterns(app, channel, text, except, *patterns);
  if (it == channels.end()) return;
  Channel& ch = *it->second;
  // A member event: what it tells this worker's subscribers who see the roster (core/member_view.h).
  std::optional<messages::MemberEvent> member;
  bool news = true;
  if (roster_version && (member = messages::parse_member_event(text))) {
    if (member->added)
      news = ch.members_shown().added(member->user_id, roster_version);
    else
      ch.members_shown().removed(member->user_id, roster_version);
  }
  FramePtr frame = Frame::make(text), by_address;
  if (ch.by_address()) by_address = Frame::make(messages::respell(text, channel, *resource_of_channel(channel)));
  bool look = roster_version || by_address || ch.awaiting();
  for (Connection* s : ch.subscribers()) {
    if (s == except) continue;
    Subscription* sub = look ? s->subscriptions().find(channel) : nullptr;
    // A member hears no member event of her own user: while she is subscribed, her user is there.
    if (member && sub->user_id == member->user_id) continue;
    if (sub && sub->awaiting_roster) {  // before its subscription_succeeded: kept for after it
      sub->held.emplace_back(roster_version, sub->by_address ? by_address : frame);
      continue;
    }
    // A member event already contained in the roster this subscriber was given is skipped, one
    // adding a member the subscribers see already, and one for a subscriber that does not see
    // the roster (not privileged).
    if (roster_version && (!news || sub->roster_version >= roster_version || !sub->privileged)) continue;
    sender_.send(*s, sub && sub->by_address ? by_address : frame);
  }
}

void FanOut::deliver_to_patterns(const App& app, const std::string& channel, std::string_view text,
                                 const Connection* except, const std::vector<std::string>& patterns) {
  Channels& channels = channels_[&app];
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
    bool look = (by_address && by_name) || subscribers.awaiting();
    for (Connection* s : subscribers.subscribers()) {
      if (s == except) continue;
      Subscription* sub = look ? s->subscriptions().find(pattern) : nullptr;
      const FramePtr& frame = by_address && (!by_name || sub->by_address) ? by_address : by_name;
      if (sub && sub->awaiting_roster) {  // before its subscription_succeeded: kept for after it
        sub->held.emplace_back(0, frame);
        continue;
      }
      sender_.send(*s, frame);
    }
  }
}

}  // namespace raptor
