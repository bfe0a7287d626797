#include "core/engine.h"

#include <chrono>

#include "common/text.h"
#include "core/policy_hooks.h"
#include "metrics/channel_stats.h"
#include "protocol/channel_kind.h"
#include "protocol/channel_pattern.h"
#include "protocol/channel_resource.h"
#include "protocol/errors.h"
#include "protocol/messages.h"

namespace raptor {
namespace {

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

}  // namespace

Engine::Engine(const AppList& apps, EngineLimits limits, Transport& transport, Hub& hub, size_t worker,
               Clock clock)
    : apps_(apps), limits_(limits), hub_(hub), worker_(worker), clock_(clock ? std::move(clock) : Clock(steady_ms)),
      sender_(transport, limits.max_send_queue_bytes), fan_out_(channels_, connections_, sender_),
      sweeps_(connections_, sender_), client_events_(hub.directory()), webhooks_(hub),
      router_(hub, worker, fan_out_, connections_, [this](const Delivery& d) { users_.deliver(d); }),
      counts_(apps, hub, router_, webhooks_, clock_), users_(hub, worker, sender_, router_),
      held_(hub, connections_, sender_, clock_), presence_(hub, connections_, channels_, sender_, *this) {}

void Engine::set_cluster(ClusterBus* cluster) {
  cluster_ = cluster;
  router_.set_cluster(cluster);
  counts_.set_cluster(cluster);
  users_.set_cluster(cluster);
  presence_.set_cluster(cluster);
}

void Engine::check_readiness() {
  held_.release([this](Connection& c, const std::vector<std::string>& sent) {
    send(c, messages::connection_established(c.socket_id(), limits_.activity_timeout_s));
    for (const std::string& text : sent) on_message(c, text);
  });
}

Engine::~Engine() = default;

Connection* Engine::open_refused(void* handle, const Admission& refusal) {
  static const App kNoApp{};
  Connection* c = connections_.add(kNoApp, handle, clock_());
  metrics::connection_refused(refusal.close_code);
  send_error(*c, refusal.close_code, refusal.reason);
  close(*c, refusal.close_code, refusal.reason);
  return c;
}

void Engine::set_policy(Policy* policy) {
  policy_ = policy;
  wants_handshake_ = raptor::wants_handshake(apps_, policy);
  authorizer_.set_policy(policy);
  client_events_.set_policy(policy);
}

Connection* Engine::open(const App& app, void* handle, std::unique_ptr<Handshake> handshake,
                         ClientAddressLedger::Hold address_hold) {
  Connection* c = connections_.add(app, handle, clock_());
  c->keep_address_hold(std::move(address_hold));
  app.connections.opened();
  metrics::connection_opened(app);
  if (handshake && handshake_use(policy_, app) == HandshakeUse::Kept) c->keep_handshake(std::move(handshake));
  if (!held_.ready()) {
    held_.hold(*c);  // established by check_readiness()
    return c;
  }
  send(*c, messages::connection_established(c->socket_id(), limits_.activity_timeout_s));
  return c;
}

void Engine::on_pong(Connection& c) { c.saw_activity(clock_()); }

void Engine::on_binary_message(Connection& c) {
  c.saw_activity(clock_());
  send_error(c, code(ErrorCode::InvalidMessage), "Binary frames are not supported; send JSON text");
}

void Engine::on_message(Connection& c, std::string_view text) {
  if (c.closing()) return;
  if (held_.hold_message(c, text)) return;
  metrics::count(metrics::Count::BytesIn, text.size());
  c.saw_activity(clock_());
  messages::ClientMessage m;
  if (!messages::parse_client_message(text, m)) {
    send_error(c, code(ErrorCode::InvalidMessage), "Invalid message: expected a JSON object with an \"event\" string (UTF-8, no \\u0000)");
    return;
  }
  if (m.event == "pusher:ping") {
    send(c, messages::pong());
  } else if (m.event == "pusher:pong") {
    // liveness already noted
  } else if (m.event == "pusher:subscribe") {
    subscribe(c, m);
  } else if (m.event == "pusher:signin") {
    users_.signin(c, m);
  } else if (m.event == "pusher:unsubscribe") {
    auto channel = m.data_channel;
    if (!channel) {
      send_error(c, code(ErrorCode::InvalidMessage), "pusher:unsubscribe needs data.channel");
      return;
    }
    unsubscribe(c, channel_named(*channel));
  } else if (starts_with(m.event, "client-")) {
    client_event(c, m);
  } else if (starts_with(m.event, "pusher:") || starts_with(m.event, "pusher_internal:")) {
    send_error(c, code(ErrorCode::InvalidMessage), "Unsupported event: " + std::string(m.event));
  } else {
    send_error(c, code(ErrorCode::ClientEventRefused), "Client events must be named client-*");
  }
}

std::string Engine::channel_named(std::string_view spelled) {
  if (!starts_with(spelled, kChannelResourceRoot)) return std::string(spelled);
  ChannelResource address = channel_from_resource(spelled, true);
  return address.valid() ? address.name : std::string(spelled);  // invalid: matches no subscription
}

void Engine::refuse_subscription(Connection& c, std::string_view channel, const SubscriptionRefusal& r) {
  send_error(c, r.code, r.message);
  send(c, messages::subscription_error(channel, r.type, r.message, r.status, r.code));
}

void Engine::subscribe(Connection& c, const messages::ClientMessage& m) {
  auto channel_name = m.data_channel;
  if (!m.data_is_object || !channel_name) {
    send_error(c, code(ErrorCode::InvalidMessage), "pusher:subscribe needs data.channel");
    return;
  }
  // `spelled` is the channel as the client wrote it, a name or a URL resource (docs/channels.md);
  // what it receives is spelled the same way. `name` is the channel, or a wildcard pattern.
  std::string spelled(*channel_name), name = spelled;
  // Before any work: every subscribe may cost a signature check, hook calls and, in a cluster,
  // Redis scripts; a repeated one too. The connection stays open.
  if (!c.take_subscribe_token(clock_(), limits_.subscriptions_per_second, limits_.subscribe_burst())) {
    refuse_subscription(c, spelled, SubscriptionAuthorizer::over_rate(limits_.subscriptions_per_second));
    return;
  }
  bool by_address = starts_with(spelled, kChannelResourceRoot);
  if (by_address) {
    ChannelResource address = channel_from_resource(spelled, true);
    if (!address.valid()) {
      refuse_subscription(c, spelled, {"InvalidChannel", 400, code(ErrorCode::InvalidChannel), address.error});
      return;
    }
    name = std::move(address.name);
  }
  const ChannelKind& kind = channel_kind(name);
  if (kind.auth == ChannelAuth::SignedInUser) {
    if (auto refusal = users_.subscribe_user_channel(c, name)) refuse_subscription(c, name, *refusal);
    return;
  }
  if (kind.auth == ChannelAuth::AdminToken) {
    if (auto refusal = dashboard_.watch(c, name, m.auth))
      refuse_subscription(c, spelled, *refusal);
    else
      send(c, messages::subscription_succeeded(spelled, "{}"));
    return;
  }
  bool wildcard = names_pattern(name);
  if (wildcard) {
    if (auto refusal = SubscriptionAuthorizer::pattern_refusal(c, name, !c.subscribed(name))) {
      refuse_subscription(c, spelled, *refusal);
      return;
    }
  } else if (auto refusal = SubscriptionAuthorizer::invalid_name(name)) {
    refuse_subscription(c, name, *refusal);
    return;
  }
  if (Subscription* sub = c.subscriptions().find(name)) {
    resubscribe(c, name, kind.type, *sub);
    return;
  }
  if (c.subscriptions().size() >= limits_.max_subscriptions) {
    refuse_subscription(c, spelled, SubscriptionAuthorizer::over_count(limits_.max_subscriptions));
    return;
  }
  Authorization a = authorizer_.authorize(c, name, spelled, m);
  if (a.refusal) {
    refuse_subscription(c, spelled, *a.refusal);
    return;
  }
  Subscription subscription{std::move(a.user_id), 0, by_address};
  subscription.privileged = a.privileged;
  if (wildcard)
    subscribe_pattern(c, name, spelled, std::move(subscription));
  else
    make_subscription(c, name, spelled, std::move(subscription), a.user_info);
}

void Engine::resubscribe(Connection& c, const std::string& name, ChannelType type, Subscription& sub) {
  // The roster given now is the newest, so member events it already contains must not follow it.
  if (sub.awaiting_roster) return;  // subscription_succeeded follows Redis's answer
  if (sub.in_cluster && presence_in_cluster(type)) {
    presence_.ask_cluster_roster(c, name, 0, {}, false);
    return;
  }
  std::string data = "{}";
  if (type == ChannelType::Presence) {
    auto [roster, version] = hub_.directory().roster(c.app(), name, sub.user_id, sub.privileged);
    data = std::move(roster);
    sub.roster_version = version;
  }
  // One subscription per channel: it keeps the spelling it was made with.
  send(c, messages::subscription_succeeded(sub.by_address ? *resource_of_channel(name) : name, data));
}

void Engine::make_subscription(Connection& c, const std::string& name, const std::string& spelled,
                               Subscription subscription, const std::string& user_info) {
  const App& app = c.app();
  const ChannelKind& kind = channel_kind(name);
  ChannelType type = kind.type;
  bool by_address = subscription.by_address;
  std::optional<ChannelDirectory::Join> join;
  bool in_cluster = presence_in_cluster(type);  // else presence stays per node (docs/cluster.md)
  if (type == ChannelType::Presence) {
    // In a cluster, Redis decides and announces member events; the directory keeps this node's view.
    // (Redis also refuses a join once the channel is full across the cluster: cluster_roster_answered.)
    const std::string& user_id = subscription.user_id;
    join = hub_.directory().join(app, name, worker_, user_id, user_info,
                                 in_cluster ? ChannelDirectory::Announce([](uint64_t, uint64_t) {})
                                            : router_.announcer(app, name, messages::member_added(name, user_id, user_info), &c),
                                 subscription.privileged, !cluster_decides());
    if (!join) {
      refuse_full_presence(c, spelled);
      return;
    }
    subscription.roster_version = join->version;
  } else {
    hub_.directory().subscribed(app, name, worker_, !cluster_decides());
  }
  auto& slot = channels_of(app)[name];
  if (!slot) {
    slot = std::make_unique<Channel>(name);
    if (cluster_) cluster_->watch_channel(app, name);  // before subscription_succeeded goes out
  }
  if (cluster_) cluster_->occupancy_change(app, name, 1);
  slot->add(&c, by_address);
  subscription.in_cluster = in_cluster;
  c.subscriptions().add(name, std::move(subscription));
  if (kind.auth == ChannelAuth::Signature) c.set_authorized();
  if (in_cluster) {
    presence_.ask_cluster_roster(c, name, 1, user_info, true);
    return;
  }
  if (cluster_ && presence_.acknowledge_when_subscribed(c, name, spelled, type)) return;
  send(c, messages::subscription_succeeded(spelled, join ? join->roster_json : "{}"));
  after_subscribe(c, name, spelled, type);
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
  const ChannelKind& kind = channel_kind(pattern);
  if (kind.auth == ChannelAuth::Signature) c.set_authorized();
  if (cluster_ && presence_.acknowledge_when_subscribed(c, pattern, spelled, kind.type)) return;
  send(c, messages::subscription_succeeded(spelled, "{}"));
}

void Engine::refuse_full_presence(Connection& c, std::string_view spelled) {
  refuse_subscription(c, spelled, SubscriptionAuthorizer::presence_full(c.app()));
}

void Engine::after_subscribe(Connection& c, const std::string& channel, const std::string& spelled, ChannelType type) {
  const App& app = c.app();
  if (is_cache_channel(channel)) {
    auto cached = hub_.cache().find(app, channel, clock_());
    if (!cached)
      send(c, messages::cache_miss(spelled));
    else
      send(c, spelled == channel ? cached->frame : messages::respell(cached->frame, channel, spelled));
    if (!cached) webhooks_.cache_miss(app, channel);
  }
  counts_.subscribed(app, channel, type);
}

void Engine::unsubscribe(Connection& c, const std::string& name, bool refused_by_cluster) {
  if (name == kDashboardChannel) dashboard_.forget(c);
  if (!c.subscribed(name)) return;
  Subscription gone = c.subscriptions().remove(name);
  const std::string& user_id = gone.user_id;

  const App& app = c.app();
  Channels& channels = channels_of(app);
  auto it = channels.find(name);
  if (it == channels.end()) return;
  Channel& ch = *it->second;
  ch.remove(&c, gone.by_address);
  if (gone.awaiting_roster) ch.awaiting_changed(-1);
  size_t local = ch.subscription_count();
  bool presence = ch.is_presence();
  if (local == 0) channels.erase(it);
  if (names_pattern(name)) {
    hub_.directory().pattern_unsubscribed(app, name, worker_, local);
    if (local == 0 && cluster_) cluster_->unwatch_pattern(app, name);
    return;
  }
  if (local == 0 && cluster_) cluster_->unwatch_channel(app, name);
  bool report = !cluster_decides();
  if (!presence) {
    if (cluster_) cluster_->occupancy_change(app, name, -1);
    hub_.directory().unsubscribed(app, name, worker_, local, report);
    counts_.unsubscribed(app, name);
    return;
  }
  // Counted in Redis: Redis announces the leave (once it is reachable again, if it is not now).
  // A join Redis refused was counted nowhere and announced to nobody.
  bool decided_in_redis = gone.in_cluster && (refused_by_cluster || presence_in_cluster(ChannelType::Presence));
  hub_.directory().leave(app, name, worker_, local, user_id,
                         decided_in_redis ? ChannelDirectory::Announce([](uint64_t, uint64_t) {})
                                          : router_.announcer(app, name, messages::member_removed(name, user_id), nullptr),
                         report, !decided_in_redis);
  if (gone.in_cluster && cluster_ && !refused_by_cluster) presence_.leave_cluster_presence(app, name, gone);
  // After the member's leave, so that member_removed is held (and sent) before channel_vacated.
  if (cluster_) cluster_->occupancy_change(app, name, -1);
}

void Engine::client_event(Connection& c, const messages::ClientMessage& m) {
  const App& app = c.app();
  std::string name = channel_named(m.channel);
  std::string_view data;
  std::string rewritten;
  ClientEventVerdict v = client_events_.check(c, m, name, clock_(), data, rewritten);
  if (v.kind == ClientEventVerdict::Kind::Refuse) send_error(c, v.code, v.message);
  if (v.kind != ClientEventVerdict::Kind::Send) return;
  const std::string& user_id = v.sub->user_id;
  router_.broadcast(app, name, messages::channel_event_raw(m.event, name, data, user_id), &c);
  metrics::client_event(app, name);
  webhooks_.client_event(app, name, user_id, m.event, data, c.socket_id());
}

void Engine::on_closed(Connection* c) {
  if (!connections_.with(c->socket_id())) return;
  while (!c->subscriptions().empty()) {
    std::string name = c->subscriptions().any_channel();
    unsubscribe(*c, name);
  }
  if (c->user()) users_.sign_out(*c);
  dashboard_.forget(*c);
  metrics::connection_closed(c->app(), c->close_code());
  if (!c->app().key.empty()) c->app().connections.closed();  // refused ones were never counted
  connections_.remove(*c);
}

void Engine::publish(const App& app, std::string_view channel, std::string_view event, std::string_view data,
                     std::string_view except_socket_id) {
  metrics::api_event(app, channel);
  std::string text = messages::channel_event(event, channel, data);
  if (channel_type(channel) == ChannelType::ServerToUser) {
    router_.dispatch(EventRouter::delivery(Delivery::Kind::UserEvent, app,
                                           std::string(channel.substr(kServerToUserPrefix.size())), std::move(text),
                                           std::string(except_socket_id)));
    return;
  }
  std::string name(channel);
  if (is_cache_channel(name)) hub_.cache().store(app, name, text, std::string(data), clock_());
  router_.broadcast(app, name, std::move(text), nullptr, except_socket_id);
}

void Engine::send_to_dashboard(std::string_view event, std::string_view data) {
  FramePtr frame = Frame::make(messages::channel_event(event, kDashboardChannel, data));  // one, shared
  for (Connection* c : dashboard_.watchers()) send(*c, frame);
}

std::optional<CachedEvent> Engine::cached_event(const App& app, const std::string& channel) const {
  return hub_.cache().find(app, channel, clock_());
}

}  // namespace raptor
