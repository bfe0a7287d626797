#include "core/engine.h"

#include <chrono>

#include "common/text.h"
#include "core/policy_hooks.h"
#include "metrics/channel_stats.h"
#include "protocol/channel_data.h"
#include "protocol/channel_pattern.h"
#include "protocol/channel_resource.h"
#include "protocol/errors.h"
#include "protocol/messages.h"
#include "protocol/signature.h"

namespace raptor {
namespace {

int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// Parses a protocol query value as a whole decimal number.
std::optional<int> parse_version(std::string_view v) {
  if (v.empty() || v.size() > 6) return std::nullopt;
  int n = 0;
  for (char ch : v) {
    if (ch < '0' || ch > '9') return std::nullopt;
    n = n * 10 + (ch - '0');
  }
  return n;
}

}  // namespace

Engine::Engine(const AppList& apps, EngineLimits limits, Transport& transport, Hub& hub, size_t worker,
               Clock clock)
    : apps_(apps), limits_(limits), transport_(transport), hub_(hub), worker_(worker),
      clock_(clock ? std::move(clock) : Clock(steady_ms)), rng_(std::random_device{}()) {}

Engine::~Engine() = default;

const App* Engine::app_by_key(std::string_view key) const {
  for (const auto& app : apps_)
    if (app.key == key && !app.retired) return &app;
  return nullptr;
}

const App* Engine::app_by_id(std::string_view id) const {
  for (const auto& app : apps_)
    if (app.id == id && !app.retired) return &app;
  return nullptr;
}

Admission Engine::admit(std::string_view path, std::optional<std::string_view> protocol,
                         const Handshake* handshake) const {
  constexpr std::string_view kPrefix = "/app/";
  if (!starts_with(path, kPrefix) || path.size() == kPrefix.size())
    return {nullptr, code(CloseCode::PathNotFound), "Path not found"};
  std::string_view key = path.substr(kPrefix.size());
  if (!key.empty() && key.back() == '/') key.remove_suffix(1);
  if (key.empty() || key.find('/') != std::string_view::npos)
    return {nullptr, code(CloseCode::PathNotFound), "Path not found"};
  if (!protocol) return {nullptr, code(CloseCode::NoVersion), "No protocol version supplied"};
  auto version = parse_version(*protocol);
  if (!version) return {nullptr, code(CloseCode::InvalidVersion), "Invalid version string format"};
  if (*version < 4 || *version > 7)
    return {nullptr, code(CloseCode::UnsupportedVersion), "Unsupported protocol version"};
  const App* app = app_by_key(key);
  if (!app) return {nullptr, code(CloseCode::UnknownApp), "Application does not exist"};
  Admission refusal;
  if (handshake && !admitted_by_policy(*app, *handshake, refusal)) return refusal;
  return {app, 0, {}};
}

std::string Engine::new_socket_id() {
  // Two 7-digit numbers: 15 characters fit std::string's inline buffer (no allocation per
  // connection), with 10^14 ids to draw from.
  std::uniform_int_distribution<uint64_t> dist(1000000, 9999999);
  for (;;) {
    std::string id = std::to_string(dist(rng_)) + "." + std::to_string(dist(rng_));
    if (!connections_.count(id)) return id;
  }
}

Connection* Engine::add_connection(const App& app, void* handle) {
  auto conn = std::make_unique<Connection>(app, new_socket_id(), handle, clock_());
  Connection* c = conn.get();
  connections_.emplace(c->socket_id(), std::move(conn));
  return c;
}

Connection* Engine::open_refused(void* handle, const Admission& refusal) {
  static const App kNoApp{};
  Connection* c = add_connection(kNoApp, handle);
  send_error(*c, refusal.close_code, refusal.reason);
  close(*c, refusal.close_code, refusal.reason);
  return c;
}

Connection* Engine::open(const App& app, void* handle, std::unique_ptr<Handshake> handshake) {
  Connection* c = add_connection(app, handle);
  metrics::connection_opened(app);
  if (handshake && handshake_use(policy_, app) == HandshakeUse::Kept) c->keep_handshake(std::move(handshake));
  if (!ready()) {
    held_[c->socket_id()];  // established by check_readiness()
    return c;
  }
  send(*c, messages::connection_established(c->socket_id(), limits_.activity_timeout_s));
  return c;
}

void Engine::send(Connection& c, FramePtr frame) {
  if (c.closing()) return;
  metrics::frame_out(frame->size());
  bool was_idle = !c.has_pending();
  if (!c.enqueue(std::move(frame), limits_.max_send_queue_bytes)) {
    close(c, code(CloseCode::OverCapacity), "Client too slow: send queue full", true);
    return;
  }
  if (was_idle) transport_.wake(c);
}

void Engine::send_error(Connection& c, int error_code, std::string_view message) {
  send(c, messages::error(error_code, message));
}

void Engine::close(Connection& c, int close_code, std::string_view reason, bool discard_queue) {
  if (c.closing()) return;
  c.begin_close(close_code, std::string(reason), discard_queue);
  transport_.wake(c);
}

void Engine::on_pong(Connection& c) { c.saw_activity(clock_()); }

void Engine::on_binary_message(Connection& c) {
  c.saw_activity(clock_());
  send_error(c, code(ErrorCode::InvalidMessage), "Binary frames are not supported; send JSON text");
}

void Engine::on_message(Connection& c, std::string_view text) {
  if (c.closing()) return;
  if (!held_.empty() && hold_message(c, text)) return;
  metrics::count(metrics::Count::BytesIn, text.size());
  c.saw_activity(clock_());
  messages::ClientMessage m;
  if (!messages::parse_client_message(text, m)) {
    send_error(c, code(ErrorCode::InvalidMessage), "Invalid message: expected a JSON object with an \"event\" string");
    return;
  }
  if (m.event == "pusher:ping") {
    send(c, messages::pong());
  } else if (m.event == "pusher:pong") {
    // liveness already noted
  } else if (m.event == "pusher:subscribe") {
    subscribe(c, m);
  } else if (m.event == "pusher:signin") {
    signin(c, m);
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

void Engine::refuse_subscription(Connection& c, std::string_view channel, std::string_view type, int status,
                                 int error_code, std::string_view message) {
  send_error(c, error_code, message);
  send(c, messages::subscription_error(channel, type, message, status, error_code));
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
  // Redis scripts; a repeated one too. Pusher's rate-limit code, and the connection stays open.
  if (!c.take_subscribe_token(clock_(), limits_.subscriptions_per_second, limits_.subscribe_burst())) {
    refuse_subscription(c, spelled, "LimitReached", 429, code(ErrorCode::RateLimited),
                        "Subscription rejected: more than " + std::to_string(limits_.subscriptions_per_second) +
                            " subscriptions per second");
    return;
  }
  bool by_address = starts_with(spelled, kChannelResourceRoot);
  if (by_address) {
    ChannelResource address = channel_from_resource(spelled, true);
    if (!address.valid()) {
      refuse_subscription(c, spelled, "InvalidChannel", 400, code(ErrorCode::InvalidChannel), address.error);
      return;
    }
    name = std::move(address.name);
  }
  const ChannelKind& kind = channel_kind(name);
  ChannelType type = kind.type;
  if (kind.auth == ChannelAuth::SignedInUser) {
    subscribe_user_channel(c, name);
    return;
  }
  bool wildcard = names_pattern(name);
  if (wildcard && !pattern_admissible(c, spelled, name, !c.subscribed(name))) return;
  if (!wildcard && !is_valid_channel_name(name)) {
    refuse_subscription(c, name, "InvalidChannel", 400, code(ErrorCode::InvalidChannel),
                        "Invalid channel name: use up to 200 of A-Z a-z 0-9 _ - = @ , . ;");
    return;
  }
  const App& app = c.app();

  if (Subscription* sub = c.subscriptions().find(name)) {
    // Idempotent: acknowledge again and change nothing. The roster given now is the newest, so
    // member events it already contains must not follow it.
    if (sub->awaiting_roster) return;  // subscription_succeeded follows Redis's answer
    if (sub->in_cluster && presence_in_cluster(type)) {
      ask_cluster_roster(c, name, 0, {}, false);
      return;
    }
    std::string data = "{}";
    if (type == ChannelType::Presence) {
      auto [roster, version] = hub_.directory().roster(app, name, sub->user_id, sub->privileged);
      data = std::move(roster);
      sub->roster_version = version;
    }
    // One subscription per channel: it keeps the spelling it was made with.
    send(c, messages::subscription_succeeded(sub->by_address ? *resource_of_channel(name) : name, data));
    return;
  }

  if (c.subscriptions().size() >= limits_.max_subscriptions) {
    refuse_subscription(c, spelled, "LimitReached", 403, code(ErrorCode::LimitReached),
                        "A connection may hold at most " + std::to_string(limits_.max_subscriptions) +
                            " subscriptions: unsubscribe from one first");
    return;
  }

  std::string user_id, user_info = "null";
  std::optional<bool> signed_privilege;  // channel_data's "privileged", when signed
  PolicyVerdict verdict = authorize_by_policy(c, name, spelled, m);
  if (verdict.kind == PolicyVerdict::Kind::Deny) {
    refuse_subscription(c, spelled, "AuthError", 403, code(ErrorCode::Unauthorized), verdict.reason);
    return;
  }
  bool allowed = verdict.kind == PolicyVerdict::Kind::Allow;
  if (allowed && verdict.user_id) {
    user_id = *verdict.user_id;
    user_info = verdict.user_info.value_or("null");
  }
  if (kind.auth == ChannelAuth::Signature && !allowed) {
    if (kind.presence && !m.channel_data) {
      refuse_subscription(c, spelled, "AuthError", 401, code(ErrorCode::Unauthorized),
                          "Presence subscription needs channel_data");
      return;
    }
    // What the app's auth endpoint was given: the channel as the client spelled it.
    std::optional<std::string_view> channel_data = kind.presence ? m.channel_data : std::nullopt;
    std::string to_sign = signature::subscription_string_to_sign(c.socket_id(), spelled, channel_data);
    if (!signature::verify_auth(m.auth.value_or(""), app.key, app.secret, to_sign)) {
      refuse_subscription(c, spelled, "AuthError", 401, code(ErrorCode::Unauthorized),
                          "Invalid signature: expected HMAC-SHA256 of \"" + to_sign + "\" as key:hex");
      return;
    }
    if (channel_data) {
      ChannelData member;
      if (auto why = parse_channel_data(*channel_data, {app.max_user_id_length, app.max_user_info_bytes}, member)) {
        if (why->over_limit)
          refuse_subscription(c, spelled, "LimitReached", 403, code(ErrorCode::LimitReached), why->message);
        else
          refuse_subscription(c, spelled, "AuthError", 401, code(ErrorCode::Unauthorized), why->message);
        return;
      }
      user_id = std::move(member.user_id);
      user_info = std::move(member.user_info);
      signed_privilege = member.privileged;
    }
  }
  bool privileged = kind.presence && member_privileged(name, verdict.privileged, signed_privilege);
  if (policy_ && policy_->has(app, Policy::Hook::ChannelRules) &&
      !subscription_permitted(c, name, spelled, m, user_id, user_info, privileged))
    return;

  Subscription subscription{user_id, 0, by_address};
  subscription.privileged = privileged;
  if (wildcard) {
    subscribe_pattern(c, name, spelled, std::move(subscription));
    return;
  }
  std::optional<ChannelDirectory::Join> join;
  bool in_cluster = presence_in_cluster(type);  // else presence stays per node (docs/cluster.md)
  if (type == ChannelType::Presence) {
    // In a cluster, Redis decides and announces member events; the directory keeps this node's view.
    // (Redis also refuses a join once the channel is full across the cluster: cluster_roster_answered.)
    join = hub_.directory().join(app, name, worker_, user_id, user_info,
                                 in_cluster ? ChannelDirectory::Announce([](uint64_t, uint64_t) {})
                                            : announcer(app, name, messages::member_added(name, user_id, user_info), &c),
                                 privileged, !cluster_decides());
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
    ask_cluster_roster(c, name, 1, user_info, true);
    return;
  }
  if (cluster_ && acknowledge_when_subscribed(c, name, spelled, type)) return;
  send(c, messages::subscription_succeeded(spelled, join ? join->roster_json : "{}"));
  after_subscribe(c, name, spelled, type);
}

void Engine::refuse_full_presence(Connection& c, std::string_view spelled) {
  refuse_subscription(c, spelled, "LimitReached", 403, code(ErrorCode::LimitReached),
                      "Presence channel is full (" + std::to_string(c.app().max_presence_members) + " members)");
}

void Engine::after_subscribe(Connection& c, const std::string& channel, const std::string& spelled, ChannelType type) {
  const App& app = c.app();
  if (is_cache_channel(channel)) {
    auto cached = hub_.cache().find(app, channel, clock_());
    if (!cached)
      send(c, messages::cache_miss(spelled));
    else
      send(c, spelled == channel ? cached->frame : messages::respell(cached->frame, channel, spelled));
    if (!cached) emit_webhook(app, WebhookEvent{WebhookType::CacheMiss, channel});
  }
  // Presence channels have member events and user_count instead (as on Pusher).
  if (app.counts_subscriptions() && type != ChannelType::Presence)
    hub_.directory().count_changed(app, channel, clock_(), count_announcer());
}

void Engine::announce(uint64_t workers, const Delivery& d) {
  if (hub_.workers() == 1)
    deliver(d);  // alone: deliver now, in order anyway
  else
    hub_.post(workers, d);
}

ChannelDirectory::Announce Engine::announcer(const App& app, const std::string& channel, std::string text,
                                             const Connection* except) {
  return [this, &app, channel, text = std::move(text), except](uint64_t version, uint64_t workers) {
    announce(workers, delivery(Delivery::Kind::ChannelEvent, app, channel, text,
                               except ? except->socket_id() : std::string(), version));
  };
}

ChannelDirectory::CountAnnounce Engine::count_announcer() {
  return [this](const App& app, const std::string& channel, size_t count, uint64_t workers) {
    if (announce_cluster_count(app, channel, count)) return;
    if (app.subscription_count_events)
      announce(workers, delivery(Delivery::Kind::ChannelEvent, app, channel, messages::subscription_count(channel, count)));
    emit_count(app, channel, count);
  };
}

bool Engine::announce_cluster_count(const App& app, const std::string& channel, size_t local_count) {
  return cluster_ && cluster_->announce_subscription_count(
                         app, channel, local_count, app.subscription_count_events,
                         [this, &app, channel](uint64_t sum) { emit_count(app, channel, sum); });
}

void Engine::emit_count(const App& app, const std::string& channel, size_t count) {
  WebhookEvent e{WebhookType::SubscriptionCount, channel};
  e.subscription_count = count;
  emit_webhook(app, std::move(e));
}

void Engine::emit_webhook(const App& app, WebhookEvent e) {
  if (WebhookSink* sink = hub_.webhooks(); sink && !app.webhooks.empty()) sink->emit(app, std::move(e));
}

void Engine::emit_cluster_webhook(const App& app, WebhookEvent e) {
  if (WebhookSink* sink = hub_.webhooks(); sink && !app.webhooks.empty()) sink->emit_decided(app, std::move(e));
}

Delivery Engine::delivery(Delivery::Kind kind, const App& app, std::string target, std::string text,
                          std::string except_socket_id, uint64_t version) {
  Delivery d;
  d.kind = kind;
  d.app = &app;
  d.target = std::move(target);
  d.text = std::make_shared<const std::string>(std::move(text));
  d.except_socket_id = std::move(except_socket_id);
  d.version = version;
  return d;
}

void Engine::dispatch(const Delivery& d) {
  deliver(d);
  if (hub_.workers() > 1) hub_.forward_to_user(worker_, d);
  if (cluster_) cluster_->publish(d.kind, *d.app, d.target, d.text ? std::string_view(*d.text) : std::string_view(),
                                  d.except_socket_id);
}

void Engine::unsubscribe(Connection& c, const std::string& name, bool refused_by_cluster) {
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
    // The node's last subscriber gone: the other nodes' subscribers still need the cluster's count.
    if (app.counts_subscriptions() && !hub_.directory().count_changed(app, name, clock_(), count_announcer()))
      announce_cluster_count(app, name, 0);
    return;
  }
  // Counted in Redis: Redis announces the leave (once it is reachable again, if it is not now).
  // A join Redis refused was counted nowhere and announced to nobody.
  bool decided_in_redis = gone.in_cluster && (refused_by_cluster || presence_in_cluster(ChannelType::Presence));
  hub_.directory().leave(app, name, worker_, local, user_id,
                         decided_in_redis ? ChannelDirectory::Announce([](uint64_t, uint64_t) {})
                                          : announcer(app, name, messages::member_removed(name, user_id), nullptr),
                         report, !decided_in_redis);
  if (gone.in_cluster && cluster_ && !refused_by_cluster) leave_cluster_presence(app, name, gone);
  // After the member's leave, so that member_removed is held (and sent) before channel_vacated.
  if (cluster_) cluster_->occupancy_change(app, name, -1);
}

void Engine::client_event(Connection& c, const messages::ClientMessage& m) {
  const App& app = c.app();
  std::string name = channel_named(m.channel);
  if (!app.client_events) {
    send_error(c, code(ErrorCode::ClientEventRefused), "Client events are disabled for this app");
    return;
  }
  if (m.event.size() > kMaxEventNameLength) {
    send_error(c, code(ErrorCode::ClientEventRefused), "Client event names are at most 200 characters");
    return;
  }
  if (names_pattern(name)) {
    send_error(c, code(ErrorCode::ClientEventRefused),
               "Client events cannot be sent to a wildcard pattern: trigger them on a concrete channel");
    return;
  }
  const ChannelKind& kind = channel_kind(name);
  if (kind.client_events == ClientEvents::Nobody) {
    send_error(c, code(ErrorCode::ClientEventRefused), "Client events are only allowed on private and presence channels");
    return;
  }
  const Subscription* sub = c.subscriptions().find(name);
  if (!sub) {
    send_error(c, code(ErrorCode::ClientEventRefused), "Client event refused: not subscribed to " + name);
    return;
  }
  if (kind.client_events == ClientEvents::PrivilegedMembers && !sub->privileged) {
    send_error(c, code(ErrorCode::NotPrivileged),
               "Client event refused: only privileged members may send client events on " + name);
    return;
  }
  if (!c.take_client_event_token(clock_())) {
    send_error(c, code(ErrorCode::RateLimited), "Client event rejected: more than " +
                                                    std::to_string(app.client_events_per_second) + " per second");
    return;
  }
  std::string_view data = m.data_text.empty() ? std::string_view("{}") : m.data_text;
  if (data.size() > app.max_event_data_bytes) {
    send_error(c, code(ErrorCode::PayloadTooLarge), "Event data is larger than 10240 bytes");
    return;
  }
  if (policy_ && policy_->has(app, Policy::Hook::ChannelRules) && !client_event_permitted(c, m, name, *sub, data))
    return;
  std::string rewritten;
  if (!filtered_by_policy(c, m, sub->user_id, data, rewritten)) return;
  broadcast(app, name, messages::channel_event_raw(m.event, name, data, sub->user_id), &c);
  metrics::client_event(app, name);
  if (!app.webhooks.empty()) {
    WebhookEvent e{WebhookType::ClientEvent, name, sub->user_id, std::string(m.event), std::string(data)};
    e.socket_id = c.socket_id();
    emit_webhook(app, std::move(e));
  }
}

void Engine::broadcast(const App& app, const std::string& channel, std::string text, const Connection* except,
                       std::string_view except_socket_id) {
  // One look at the directory per event: the workers to reach and the matching patterns.
  bool alone = hub_.workers() < 2;
  ChannelDirectory::Route route;
  if (!alone || hub_.directory().has_patterns()) route = hub_.directory().route(app, channel);
  deliver_local(app, channel, text, except, except_socket_id, 0, route.patterns.get());
  if (except) except_socket_id = except->socket_id();
  if (cluster_) cluster_->publish(Delivery::Kind::ChannelEvent, app, channel, text, except_socket_id);
  if (alone) return;
  Delivery d = delivery(Delivery::Kind::ChannelEvent, app, channel, std::move(text), std::string(except_socket_id));
  d.patterns = std::move(route.patterns);
  hub_.post(route.workers & ~(uint64_t(1) << worker_), d);
}

void Engine::deliver(const Delivery& d) {
  if (d.kind == Delivery::Kind::ChannelEvent)
    deliver_local(*d.app, d.target, *d.text, nullptr, d.except_socket_id, d.version, d.patterns.get());
  else
    deliver_to_users(d);
}

void Engine::deliver_from_cluster(Delivery::Kind kind, const App& app, const std::string& target,
                                  std::string_view text, std::string_view except_socket_id, uint64_t version) {
  if (kind == Delivery::Kind::ChannelEvent)
    deliver_local(app, target, text, nullptr, except_socket_id, version);
  else
    deliver_to_users(delivery(kind, app, target, std::string(text), std::string(except_socket_id)));
}

const Connection* Engine::connection_with(std::string_view socket_id) const {
  auto it = socket_id.empty() ? connections_.end() : connections_.find(socket_id);
  return it == connections_.end() ? nullptr : it->second.get();
}

void Engine::deliver_local(const App& app, const std::string& channel, std::string_view text,
                           const Connection* except, std::string_view except_socket_id, uint64_t roster_version,
                           const std::vector<std::string>* patterns) {
  Channels& channels = channels_of(app);
  auto it = channels.find(channel);
  if (it == channels.end() && !patterns) return;
  if (!except) except = connection_with(except_socket_id);
  if (patterns) deliver_to_patterns(app, channel, text, except, *patterns);
  if (it == channels.end()) return;
  const Channel& ch = *it->second;
  FramePtr frame = Frame::make(text), by_address;
  if (ch.by_address()) by_address = Frame::make(messages::respell(text, channel, *resource_of_channel(channel)));
  bool look = roster_version || by_address || ch.awaiting();
  for (Connection* s : ch.subscribers()) {
    if (s == except) continue;
    Subscription* sub = look ? s->subscriptions().find(channel) : nullptr;
    if (sub && sub->awaiting_roster) {  // before its subscription_succeeded: kept for after it
      sub->held.emplace_back(roster_version, sub->by_address ? by_address : frame);
      continue;
    }
    // A member event already contained in the roster this subscriber was given is skipped, and
    // one for a subscriber that does not see the roster (not privileged).
    if (roster_version && (sub->roster_version >= roster_version || !sub->privileged)) continue;
    send(*s, sub && sub->by_address ? by_address : frame);
  }
}

void Engine::on_closed(Connection* c) {
  auto owned = connections_.find(c->socket_id());
  if (owned == connections_.end()) return;
  while (!c->subscriptions().empty()) {
    std::string name = c->subscriptions().any_channel();
    unsubscribe(*c, name);
  }
  if (c->user()) sign_out(*c);
  metrics::connection_closed(c->app(), c->close_code());
  connections_.erase(owned);
}

void Engine::check_liveness(size_t part, size_t parts) {
  // By hash buckets: a part is a range of them. A rehash between two parts moves connections
  // between ranges, so one may be checked twice or once fewer in that second: a ping is sent at
  // most a second late, and never twice (ping_sent_ms).
  size_t buckets = connections_.bucket_count();
  size_t per_part = (buckets + parts - 1) / parts;
  size_t first = std::min(buckets, part * per_part), last = std::min(buckets, first + per_part);
  int64_t now = clock_();
  int64_t idle_ms = int64_t(limits_.activity_timeout_s) * 1000;
  int64_t pong_ms = int64_t(limits_.pong_timeout_s) * 1000;
  for (size_t b = first; b < last; ++b) {
    // close() only marks a connection closing: it leaves the map in on_closed(), later.
    for (auto it = connections_.begin(b); it != connections_.end(b); ++it) {
      Connection& c = *it->second;
      if (c.closing()) continue;
      if (c.ping_sent_ms() == 0) {
        if (now - c.last_seen_ms() >= idle_ms) {
          c.ping_sent(now);
          send(c, messages::ping());
        }
      } else if (now - c.ping_sent_ms() >= pong_ms) {
        send_error(c, code(CloseCode::PongTimeout), "Pong reply not received");
        close(c, code(CloseCode::PongTimeout), "Pong reply not received");
        continue;
      }
      close_if_unauthorized(c, now);
    }
  }
}

void Engine::flush_counts() {
  for (const auto& app : apps_) {
    if (app.retired || !app.counts_subscriptions()) continue;
    hub_.directory().flush_counts(clock_(), count_announcer());
    break;  // flushes every app's counts
  }
}

size_t Engine::close_retired() {
  size_t n = 0;
  for (auto& entry : connections_) {
    Connection& c = *entry.second;
    if (!c.app().retired || c.closing()) continue;
    // Its app is gone: the same refusal as a connection to an unknown key gets.
    send_error(c, code(CloseCode::UnknownApp), "Application does not exist (removed by a configuration reload)");
    close(c, code(CloseCode::UnknownApp), "Application does not exist");
    ++n;
  }
  return n;
}

size_t Engine::close_going_away(size_t n) {
  size_t closed = 0;
  for (auto it = connections_.begin(); it != connections_.end() && closed < n; ++it) {
    Connection& c = *it->second;
    if (c.closing()) continue;
    send_error(c, code(CloseCode::GoingAway), "Server is going away");
    close(c, code(CloseCode::GoingAway), "Server is going away");
    ++closed;
  }
  return closed;
}

size_t Engine::open_count() const {
  size_t n = 0;
  for (const auto& entry : connections_) n += !entry.second->closing();
  return n;
}

void Engine::publish(const App& app, std::string_view channel, std::string_view event, std::string_view data,
                     std::string_view except_socket_id) {
  metrics::api_event(app, channel);
  std::string text = messages::channel_event(event, channel, data);
  if (channel_type(channel) == ChannelType::ServerToUser) {
    dispatch(delivery(Delivery::Kind::UserEvent, app, std::string(channel.substr(kServerToUserPrefix.size())),
                      std::move(text), std::string(except_socket_id)));
    return;
  }
  std::string name(channel);
  if (is_cache_channel(name)) hub_.cache().store(app, name, text, std::string(data), clock_());
  broadcast(app, name, std::move(text), nullptr, except_socket_id);
}

std::optional<CachedEvent> Engine::cached_event(const App& app, const std::string& channel) const {
  return hub_.cache().find(app, channel, clock_());
}

}  // namespace raptor
