#include "config/reload.h"

#include <algorithm>

namespace raptor {
namespace {

std::string text(const std::string& s) { return s.empty() ? "(none)" : "\"" + s + "\""; }
std::string text(bool b) { return b ? "true" : "false"; }
std::string text(Config::EventLoop l) { return l == Config::EventLoop::Epoll ? ":epoll" : ":poll"; }
template <typename N>
std::string text(N n) {
  return std::to_string(n);
}

// Keeps `running`'s value of a restart-only setting in `next`, noting it when they differed.
template <typename T>
void keep(std::vector<std::string>& kept, const char* name, const T& running, T& next) {
  if (running == next) return;
  kept.push_back(std::string(name) + " changed from " + text(running) + " to " + text(next) +
                 ", which needs a restart: still " + text(running));
  next = running;
}

bool same_webhook_settings(const WebhookSettings& a, const WebhookSettings& b) {
  return a.batch_ms == b.batch_ms && a.max_batch_events == b.max_batch_events &&
         a.departure_delay_ms == b.departure_delay_ms && a.cache_miss_window_ms == b.cache_miss_window_ms &&
         a.retry_base_ms == b.retry_base_ms && a.retry_max_ms == b.retry_max_ms && a.retry_for_ms == b.retry_for_ms &&
         a.timeout_ms == b.timeout_ms && a.queue_limit == b.queue_limit &&
         a.stream_max_entries == b.stream_max_entries && a.claim_after_ms == b.claim_after_ms;
}

bool same_redis(const std::optional<RedisAddress>& a, const std::optional<RedisAddress>& b) {
  if (!a || !b) return !a && !b;
  return *a == *b;
}

template <typename T>
void note(std::vector<std::string>& out, const char* name, const T& running, const T& next) {
  if (!(running == next)) out.push_back(std::string(name) + " " + text(running) + " -> " + text(next));
}

// Which settings of an app differ, by name (never their values: secrets).
std::string differences(const App& a, const App& b) {
  std::vector<const char*> names;
  if (a.key != b.key) names.push_back("key");
  if (a.secret != b.secret) names.push_back("secret");
  if (a.client_events != b.client_events) names.push_back("client_events");
  if (a.client_events_per_second != b.client_events_per_second) names.push_back("client_events_per_second");
  if (a.max_presence_members != b.max_presence_members) names.push_back("max_presence_members");
  if (a.user_authentication_timeout_s != b.user_authentication_timeout_s)
    names.push_back("user_authentication_timeout");
  if (a.cache_ttl_s != b.cache_ttl_s) names.push_back("cache_ttl");
  if (a.subscription_count_events != b.subscription_count_events) names.push_back("subscription_count");
  if (a.max_connections != b.max_connections) names.push_back("max_connections");
  if (a.allowed_origins != b.allowed_origins) names.push_back("allowed_origins");
  if (a.api_events_per_second != b.api_events_per_second) names.push_back("api_events_per_second");
  if (a.webhooks != b.webhooks) names.push_back("webhooks");
  std::string out;
  for (const char* n : names) out += (out.empty() ? "" : ", ") + std::string(n);
  return out;
}

void list(std::string& out, const char* what, const std::vector<std::string>& ids) {
  if (ids.empty()) return;
  out += out.empty() ? "apps: " : "; ";
  out += what;
  for (size_t i = 0; i < ids.size(); ++i) out += (i ? ", " : " ") + ids[i];
}

}  // namespace

std::vector<std::string> keep_restart_only(const Config& running, Config& next) {
  std::vector<std::string> kept;
  keep(kept, "listen address", running.host, next.host);
  keep(kept, "listen port", running.port, next.port);
  // The certificate and key are read again on every reload, from new paths too; only turning
  // TLS on or off changes what the listener is.
  if (running.tls_cert.empty() != next.tls_cert.empty()) {
    kept.push_back(std::string("tls turned ") + (next.tls_cert.empty() ? "off" : "on") +
                   ", which needs a restart: still " + (running.tls_cert.empty() ? "off" : "on"));
    next.tls_cert = running.tls_cert;
    next.tls_key = running.tls_key;
  }
  keep(kept, "workers", running.workers, next.workers);
  keep(kept, "event_loop", running.event_loop, next.event_loop);
  keep(kept, "compression", running.compression, next.compression);
  // What every new connection must begin with: the balancer in front changes with it.
  keep(kept, "proxy_protocol", running.proxy_protocol, next.proxy_protocol);
  if (!same_webhook_settings(running.webhooks, next.webhooks)) {
    kept.push_back("webhook delivery settings (--webhook-* options) changed, which needs a restart: still the old ones");
    next.webhooks = running.webhooks;
  }
  // The node keeps its Redis and its id (a generated id is new on every read of the settings).
  if (!same_redis(running.cluster.redis, next.cluster.redis) || running.cluster.prefix != next.cluster.prefix)
    kept.push_back("redis settings changed, which needs a restart: still the old ones");
  next.cluster = running.cluster;
  return kept;
}

std::vector<std::string> live_changes(const Config& running, const Config& next) {
  std::vector<std::string> out;
  note(out, "activity_timeout", running.limits.activity_timeout_s, next.limits.activity_timeout_s);
  note(out, "pong_timeout", running.limits.pong_timeout_s, next.limits.pong_timeout_s);
  note(out, "max_send_queue", running.limits.max_send_queue_bytes, next.limits.max_send_queue_bytes);
  note(out, "max_message_size", running.max_message_bytes, next.max_message_bytes);
  note(out, "hook_time_budget", running.hook_time_budget_ms, next.hook_time_budget_ms);
  note(out, "script_memory_limit", running.script_memory_mb, next.script_memory_mb);
  note(out, "drain_seconds", running.drain_seconds, next.drain_seconds);
  note(out, "max_connections_per_ip", running.limits.per_address.max_connections,
       next.limits.per_address.max_connections);
  note(out, "max_send_queue_total", running.limits.max_send_queue_total_bytes,
       next.limits.max_send_queue_total_bytes);
  note(out, "api_events_per_second", running.limits.api_events_per_second, next.limits.api_events_per_second);
  note(out, "connects_per_second_per_ip", running.limits.per_address.connects_per_second,
       next.limits.per_address.connects_per_second);
  if (!next.tls_cert.empty()) {
    note(out, "tls cert", running.tls_cert, next.tls_cert);
    note(out, "tls key", running.tls_key, next.tls_key);
    note(out, "tls min_version", std::string(tls_version_name(running.tls_min_version)),
         std::string(tls_version_name(next.tls_min_version)));
    if (running.tls_ciphers != next.tls_ciphers) out.push_back("tls ciphers changed");
  }
  return out;
}

AppChanges update_apps(AppList& live, const std::vector<App>& next) {
  AppChanges changes;
  for (const App& n : next) {
    auto it = std::find_if(live.begin(), live.end(), [&](const App& a) { return a.id == n.id; });
    if (it == live.end()) {
      live.push_back(n);
      live.back().retired = false;
      changes.added.push_back(n.id);
      continue;
    }
    if (it->retired) {
      changes.added.push_back(n.id);
    } else if (std::string what = differences(*it, n); !what.empty()) {
      changes.changed.push_back(n.id + " (" + what + ")");
    }
    *it = n;
    it->retired = false;
  }
  for (App& a : live) {
    if (a.retired) continue;
    bool kept = std::any_of(next.begin(), next.end(), [&](const App& n) { return n.id == a.id; });
    if (kept) continue;
    a.retired = true;
    changes.removed.push_back(a.id);
  }
  return changes;
}

std::string describe(const AppChanges& changes) {
  std::string out;
  list(out, "added", changes.added);
  list(out, "removed", changes.removed);
  list(out, "changed", changes.changed);
  return out.empty() ? "apps unchanged" : out;
}

}  // namespace raptor
