#include "metrics/scrape.h"

#include <array>

#include "core/send_queue_totals.h"
#include "metrics/counters.h"
#include "metrics/exposition.h"
#include "metrics/health.h"
#include "metrics/process_figures.h"
#include "protocol/channel_kind.h"

namespace raptor::metrics {
namespace {

const char* type_label(ChannelType type) {
  switch (type) {
    case ChannelType::Public: return "public";
    case ChannelType::Private: return "private";
    case ChannelType::Encrypted: return "encrypted";
    case ChannelType::Presence: return "presence";
    case ChannelType::ServerToUser: return "server_to_user";
    case ChannelType::Operator: return "operator";
  }
  return "public";
}
constexpr ChannelType kTypes[] = {ChannelType::Public, ChannelType::Private, ChannelType::Encrypted,
                                  ChannelType::Presence};  // server-to-user and operator channels are not in the directory

void durations(Exposition& out, std::string_view name, const std::vector<double>& bounds, const Durations& d) {
  std::vector<uint64_t> buckets;
  for (size_t i = 0; i <= bounds.size(); ++i) buckets.push_back(d.per_bucket[i].value());
  out.histogram(name, bounds, buckets, double(d.micros.value()) / 1e6);
}

// The slots that have a label: each app named, and "_other" when anything landed there.
std::vector<size_t> app_slots(const WorkerCounters& sum) {
  const Registry& r = Registry::instance();
  std::vector<size_t> slots;
  for (size_t i = 0; i < r.labeled_apps(); ++i) slots.push_back(i);
  for (const Counter& c : sum.apps[kOtherApps])
    if (c.value()) return slots.push_back(kOtherApps), slots;
  return slots;
}

void write_connections(Exposition& out, const WorkerCounters& sum) {
  const Registry& r = Registry::instance();
  auto of = [&](size_t slot, AppCount c) { return double(sum.apps[slot][size_t(c)].value()); };
  std::vector<size_t> slots = app_slots(sum);
  out.family("raptor_connections", "gauge", "WebSocket connections open now.");
  for (size_t s : slots)
    out.sample("raptor_connections", of(s, AppCount::ConnectionsOpened) - of(s, AppCount::ConnectionsClosed),
               {{"app", r.app_label(s)}});
  out.family("raptor_connections_opened_total", "counter", "WebSocket connections admitted.");
  for (size_t s : slots) out.sample("raptor_connections_opened_total", of(s, AppCount::ConnectionsOpened), {{"app", r.app_label(s)}});
  out.family("raptor_connections_closed_total", "counter",
             "WebSocket connections closed, by close code (0: by the client or the network without one).");
  const auto& codes = known_close_codes();
  for (size_t i = 0; i <= codes.size(); ++i)
    if (uint64_t n = sum.closes_by_code[i].value())
      out.sample("raptor_connections_closed_total", double(n), {{"code", i < codes.size() ? std::to_string(codes[i]) : "other"}});
  out.family("raptor_connections_refused_total", "counter",
             "WebSocket requests refused before they became connections, by close code (4004: over the app's "
             "connection quota, 4009: origin not allowed or the admit hook, 4101/4102: the client address's "
             "connections or connects a second).");
  for (size_t i = 0; i <= codes.size(); ++i)
    if (uint64_t n = sum.refusals_by_code[i].value())
      out.sample("raptor_connections_refused_total", double(n), {{"code", i < codes.size() ? std::to_string(codes[i]) : "other"}});
  out.family("raptor_client_events_total", "counter", "Client events received and sent on to subscribers.");
  for (size_t s : slots) out.sample("raptor_client_events_total", of(s, AppCount::ClientEvents), {{"app", r.app_label(s)}});
  out.family("raptor_api_events_total", "counter", "Events published through the HTTP API, one per channel.");
  for (size_t s : slots) out.sample("raptor_api_events_total", of(s, AppCount::ApiEvents), {{"app", r.app_label(s)}});
  out.family("raptor_api_events_refused_total", "counter",
             "Events the HTTP API refused (429) over the app's api_events_per_second.");
  for (size_t s : slots)
    out.sample("raptor_api_events_refused_total", of(s, AppCount::ApiEventsRefused), {{"app", r.app_label(s)}});
}

void write_channels(Exposition& out, const Engine& engine) {
  std::array<double, 5> channels{}, subscriptions{};
  double members = 0;
  if (const AppList* apps = Registry::instance().apps()) {
    for (const App& app : *apps) {
      if (app.retired) continue;
      for (const auto& [name, snap] : engine.directory().occupied(app, "")) {
        size_t t = size_t(channel_type(name));
        channels[t] += 1;
        subscriptions[t] += double(snap.subscription_count);
        members += double(snap.user_count);
      }
    }
  }
  out.family("raptor_channels", "gauge", "Occupied channels on this node, by type.");
  for (ChannelType t : kTypes) out.sample("raptor_channels", channels[size_t(t)], {{"type", type_label(t)}});
  out.family("raptor_subscriptions", "gauge", "Channel subscriptions on this node, by channel type.");
  for (ChannelType t : kTypes) out.sample("raptor_subscriptions", subscriptions[size_t(t)], {{"type", type_label(t)}});
  out.single("raptor_presence_members", "gauge", "Distinct users present, summed over presence channels.", members);
}

void write_traffic(Exposition& out, const WorkerCounters& sum) {
  auto total = [&](Count c) { return double(sum.counts[size_t(c)].value()); };
  out.single("raptor_messages_sent_total", "counter", "Frames queued to WebSocket clients: events, errors, pings and pongs.", total(Count::FramesOut));
  out.single("raptor_received_bytes_total", "counter", "Bytes of WebSocket messages received.", total(Count::BytesIn));
  out.single("raptor_sent_bytes_total", "counter", "Bytes of frames queued to WebSocket clients.", total(Count::BytesOut));
  out.single("raptor_send_queue_bytes", "gauge",
             "Bytes waiting in every client's send queue (a frame counted once per client it waits for).",
             double(send_queues::total()));
  out.single("raptor_send_queue_ceiling_closes_total", "counter",
             "Clients closed with 4100 because the send queues passed --max-send-queue-total.",
             total(Count::SendQueueCeilingCloses));

  out.family("raptor_http_requests_total", "counter", "HTTP requests answered, by status.");
  const auto& statuses = known_http_statuses();
  for (size_t i = 0; i <= statuses.size(); ++i)
    if (uint64_t n = sum.http_by_status[i].value())
      out.sample("raptor_http_requests_total", double(n), {{"status", i < statuses.size() ? std::to_string(statuses[i]) : "other"}});
  out.family("raptor_http_request_duration_seconds", "histogram", "Time from a request read in full to its answer.");
  durations(out, "raptor_http_request_duration_seconds", http_duration_buckets(), sum.http_duration);

  out.single("raptor_hook_calls_total", "counter", "raptor.rb hook and rule calls.", total(Count::HookCalls));
  out.single("raptor_hook_errors_total", "counter", "raptor.rb hook calls that raised an error.", total(Count::HookErrors));
  out.single("raptor_hook_timeouts_total", "counter", "raptor.rb hook calls stopped at their time budget.", total(Count::HookTimeouts));
  out.single("raptor_hook_seconds_total", "counter", "Time spent in raptor.rb hook calls.", total(Count::HookMicros) / 1e6);
}

void write_webhooks(Exposition& out, const Engine& engine) {
  const WebhookSink* sink = engine.webhooks();
  if (!sink) return;
  WebhookStats s = sink->stats();
  auto counter = [&out](const char* name, const char* help, uint64_t n) {
    out.family(name, "counter", help);
    out.sample(name, double(n));
  };
  counter("raptor_webhook_events_queued_total", "Webhook events accepted for a receiver (once per receiver).", s.queued);
  counter("raptor_webhook_events_sent_total", "Webhook events delivered with a 2xx answer.", s.sent);
  counter("raptor_webhook_retries_total", "Webhook POSTs repeated after a failure.", s.retried);
  counter("raptor_webhook_events_dropped_total", "Webhook events given up: queue full, 4xx, retries exhausted.", s.dropped);
  counter("raptor_webhook_events_filtered_total", "Webhook events dropped on purpose by the shape_webhook hook.", s.filtered);
  counter("raptor_webhook_events_coalesced_total", "Occupied and vacated pairs left untold.", s.coalesced);
  out.single("raptor_webhook_queue_depth", "gauge", "Webhook events waiting or being sent.", double(s.pending));
  out.single("raptor_webhook_oldest_age_seconds", "gauge", "How long the oldest webhook event held has waited (0: none).", double(s.oldest_age_ms) / 1000);
}

void write_cluster(Exposition& out, const Engine& engine, const WorkerCounters& sum) {
  const ClusterStatus* c = engine.cluster_status();
  if (!c) return;
  out.single("raptor_redis_connected_workers", "gauge", "Workers whose Redis connections are both up.", double(c->workers_connected.load(std::memory_order_relaxed)));
  out.single("raptor_redis_workers", "gauge", "Workers that keep a Redis connection.", double(c->workers));
  out.single("raptor_redis_lease_held", "gauge", "1 while this node holds its lease in Redis.", c->lease_held.load(std::memory_order_relaxed) ? 1 : 0);
  out.single("raptor_redis_links_lost_total", "counter", "Redis connections lost while up; each is made again.", double(sum.counts[size_t(Count::RedisLinksLost)].value()));
  out.family("raptor_redis_script_duration_seconds", "histogram",
             "Time from a Lua script call sent to Redis to its answer (presence, occupancy, reads, leases).");
  durations(out, "raptor_redis_script_duration_seconds", redis_script_buckets(), sum.redis_script);
  auto counter = [&out](const char* name, const char* help, const std::atomic<uint64_t>& n) {
    out.family(name, "counter", help);
    out.sample(name, double(n.load(std::memory_order_relaxed)));
  };
  counter("raptor_cluster_messages_published_total", "Messages sent to the other nodes.", c->published);
  counter("raptor_cluster_messages_received_total", "Messages from other nodes handed to the engine.", c->received);
  counter("raptor_cluster_messages_unsent_total", "Messages not sent: Redis was unreachable.", c->unsent);
}

void write_health(Exposition& out, const Engine& engine, int64_t now_s) {
  HealthStatus h = assess_health(engine, now_s);
  out.family("raptor_health", "gauge", "1 for the state /health reports (ok, degraded, starting, draining), 0 for the others.");
  for (auto state : HealthStatus::kStates) {
    HealthStatus named;
    named.state = state;
    out.sample("raptor_health", h.state == state ? 1 : 0, {{"status", named.name()}});
  }
  out.single("raptor_draining", "gauge", "1 while the node drains (SIGTERM).", engine.draining() ? 1 : 0);
}

}  // namespace

std::string scrape(const Engine& engine, int64_t now_s) {
  std::unique_ptr<WorkerCounters> sum = Registry::instance().sum();
  Exposition out;
  write_connections(out, *sum);
  write_channels(out, engine);
  write_traffic(out, *sum);
  write_webhooks(out, engine);
  write_cluster(out, engine, *sum);
  write_health(out, engine, now_s);
  write_process_figures(out);
  return out.text();
}

}  // namespace raptor::metrics
