#include "webhooks/webhook_queue.h"

#include <algorithm>
#include <chrono>
#include <deque>

#include "common/log.h"

namespace raptor {
namespace {

template <class C>
int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(C::now().time_since_epoch()).count();
}

unsigned long long ull(uint64_t n) { return n; }

}  // namespace

WebhookQueue::WebhookQueue(const AppList& apps, WebhookSettings settings, Clock steady, Clock wall)
    : settings_(settings),
      steady_(steady ? std::move(steady) : Clock(now_ms<std::chrono::steady_clock>)),
      wall_(wall ? std::move(wall) : Clock(now_ms<std::chrono::system_clock>)),
      cache_misses_(settings.cache_miss_window_ms),
      shaping_(settings.queue_limit) {
  reconfigure(apps);
}

void WebhookQueue::reconfigure(const AppList& apps) {
  std::lock_guard<std::mutex> lock(mutex_);
  apps_ = &apps;
  std::vector<Outbox> next;
  for (const App& app : apps) {
    if (app.retired) continue;
    for (size_t i = 0; i < app.webhooks.size(); ++i) {
      const WebhookEndpoint& e = app.webhooks[i];
      std::string name = "webhook " + std::to_string(i + 1) + " (" + e.origin() + ") of app " + app.id;
      auto kept = std::find_if(outboxes_.begin(), outboxes_.end(),
                               [&](const Outbox& o) { return o.app() == &app && o.endpoint() == e; });
      if (kept == outboxes_.end()) {
        next.emplace_back(app, e, std::move(name), shared_);
        continue;
      }
      next.push_back(std::move(*kept));
      outboxes_.erase(kept);
      next.back().reconfigured(std::move(name));
    }
  }
  for (Outbox& gone : outboxes_) {  // receivers the reload removed
    gone.settle_all();
    if (size_t n = gone.held()) {
      stats_.dropped += n;
      log::warn("%s: removed by a configuration reload; %zu events not delivered", gone.name().c_str(), n);
    }
  }
  outboxes_ = std::move(next);
}

void WebhookQueue::shape_events_of(std::vector<const App*> apps) {
  std::lock_guard<std::mutex> lock(mutex_);
  shaping_.shape_events_of(std::move(apps));
}

void WebhookQueue::emit(const App& app, WebhookEvent e) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    int64_t now = steady_();
    switch (e.type) {
      case WebhookType::ChannelVacated:
      case WebhookType::MemberRemoved:
        departures_.hold(app, std::move(e), now + settings_.departure_delay_ms);
        wake = sooner(now + settings_.departure_delay_ms);
        break;
      case WebhookType::ChannelOccupied:
      case WebhookType::MemberAdded:
        if (!departures_.cancel(Departures::key(app, e))) wake = enqueue(app, e, now);
        break;
      case WebhookType::CacheMiss:
        if (cache_misses_.first(app, e.channel, now)) wake = enqueue(app, e, now);
        break;
      default:
        wake = enqueue(app, e, now);
    }
  }
  if (wake && wakeup_) wakeup_();
}

void WebhookQueue::emit_decided(const App& app, WebhookEvent e) {
  bool wake = false;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    wake = enqueue(app, e, steady_());
  }
  if (wake && wakeup_) wakeup_();
}

bool WebhookQueue::enqueue(const App& app, const WebhookEvent& e, int64_t now) {
  if (shaping_.shapes(app)) {
    if (!wanted(app, e.type, e.channel)) return false;  // the hook is not run for nothing
    if (!shaping_.hold({&app, e.type, e.channel, now, webhook_body::event_json(e)})) {
      ++stats_.dropped;
      return false;
    }
    return sooner(now);
  }
  return enqueue_json(app, e.type, e.channel, {}, now, &e);
}

bool WebhookQueue::wanted(const App& app, WebhookType type, const std::string& channel) const {
  return std::any_of(outboxes_.begin(), outboxes_.end(), [&](const Outbox& o) { return o.wants(app, type, channel); });
}

bool WebhookQueue::enqueue_json(const App& app, WebhookType type, const std::string& channel,
                                const std::string& formatted, int64_t emitted_ms, const WebhookEvent* e) {
  if (stream_up_) {  // to the stream, and from there to whichever node reads it
    if (!wanted(app, type, channel)) return false;
    int64_t now = steady_();
    ledger_.append_later(StreamedWebhook{app.id, type, channel,
                                         formatted.empty() ? webhook_body::event_json(*e) : formatted,
                                         wall_() - (now - emitted_ms), {}});
    return sooner(now);
  }
  bool wake = false;
  std::string json = formatted.empty() && wanted(app, type, channel) ? webhook_body::event_json(*e) : formatted;
  if (into_outboxes(app, type, channel, json, emitted_ms, {}, wake) && stats_.stream.used) ++stats_.stream.local;
  return wake;
}

size_t WebhookQueue::into_outboxes(const App& app, WebhookType type, const std::string& channel,
                                   const std::string& json, int64_t emitted_ms, const std::string& entry, bool& wake) {
  size_t taken = 0;
  for (Outbox& o : outboxes_) {
    if (!o.wants(app, type, channel)) continue;
    ++taken;
    if (o.put(type, channel, json, emitted_ms, entry)) wake = sooner(o.due()) || wake;
  }
  return taken;
}

bool WebhookQueue::sooner(int64_t due) {
  if (due >= promised_due_) return false;
  promised_due_ = due;
  return true;
}

void WebhookQueue::take_due_departures(int64_t now) {
  for (Departures::Due& d : departures_.take_due(now)) enqueue(*d.app, d.event, now);
}

void WebhookQueue::shape(Policy* policy) {
  std::deque<ShapingQueue::Event> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    take_due_departures(steady_());
    batch = shaping_.take_all();
  }
  if (batch.empty()) return;
  // Without the lock: the hook may take its time budget, and workers go on emitting meanwhile
  // (behind this batch: the order is kept).
  size_t dropped = ShapingQueue::run_hook(policy, batch);
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.filtered += dropped;
  for (const ShapingQueue::Event& e : batch) enqueue_json(*e.app, e.type, e.channel, e.json, e.emitted_ms, nullptr);
}

std::vector<WebhookRequest> WebhookQueue::take_ready() {
  std::vector<WebhookRequest> out;
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t now = steady_();
  take_due_departures(now);
  for (Outbox& o : outboxes_)
    if (auto r = o.next_request(now, wall_(), next_id_)) out.push_back(std::move(*r));
  return out;
}

void WebhookQueue::finish(uint64_t id, int status, const std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t now = steady_();
  for (Outbox& o : outboxes_)
    if (o.finish(id, status, error, now)) return;
}

int64_t WebhookQueue::next_due() {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t due = std::min(departures_.next_due(), shaping_.oldest_ms());
  if (ledger_.waiting() || ledger_.has_settled()) due = std::min(due, steady_());
  for (const Outbox& o : outboxes_) due = std::min(due, o.due());
  promised_due_ = due;
  return due;
}

WebhookStats WebhookQueue::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  WebhookStats s = stats_;
  s.stream.up = stream_up_;
  int64_t oldest = 0;
  for (const Outbox& o : outboxes_) {
    s.pending += o.held();
    if (o.oldest_ms() && (!oldest || o.oldest_ms() < oldest)) oldest = o.oldest_ms();
  }
  s.pending += shaping_.size();
  if (oldest) s.oldest_age_ms = uint64_t(std::max<int64_t>(now() - oldest, 0));
  return s;
}

uint64_t WebhookQueue::flushable() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return count_undelivered(false);
}

uint64_t WebhookQueue::count_undelivered(bool failing_too) const {
  uint64_t n = departures_.size() + shaping_.size() + ledger_.waiting();
  for (const Outbox& o : outboxes_)
    if (failing_too || !o.failing()) n += o.held();
  return n;
}

uint64_t WebhookQueue::abandon() {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t n = count_undelivered(true);
  departures_ = Departures();
  shaping_.clear();
  ledger_.drop_waiting();
  size_t in_stream = ledger_.held();  // pending in Redis: another node claims and delivers them
  for (Outbox& o : outboxes_) o.clear();
  stats_.dropped += n;
  if (in_stream)
    log::warn("webhooks: %llu events not delivered at shutdown; %zu of them stay in the Redis stream for another "
              "node",
              ull(n), in_stream);
  else if (n)
    log::warn("webhooks: %llu events not delivered at shutdown", ull(n));
  return n;
}

// --- the cluster's stream ---

void WebhookQueue::use_stream() {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.stream.used = true;
}

void WebhookQueue::set_stream_up(bool up) {
  std::lock_guard<std::mutex> lock(mutex_);
  stream_up_ = up;
}

std::vector<StreamedWebhook> WebhookQueue::take_for_stream() {
  std::lock_guard<std::mutex> lock(mutex_);
  return ledger_.take_for_stream();
}

void WebhookQueue::count_appended(size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.stream.appended += n;
}

void WebhookQueue::count_acked(size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.stream.acked += n;
}

const App* WebhookQueue::served_app(const std::string& id) const {
  auto app = std::find_if(apps_->begin(), apps_->end(), [&](const App& a) { return a.id == id && !a.retired; });
  return app == apps_->end() ? nullptr : &*app;
}

void WebhookQueue::deliver_here(std::vector<StreamedWebhook> events) {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t now = steady_(), wall = wall_();
  bool wake = false;
  for (const StreamedWebhook& w : events) {
    const App* app = served_app(w.app_id);
    if (!app) continue;  // removed by a reload meanwhile
    if (into_outboxes(*app, w.type, w.channel, w.json, now - std::max<int64_t>(0, wall - w.emitted_ms), {}, wake))
      ++stats_.stream.local;
  }
}

void WebhookQueue::deliver_streamed(const std::string& id, const StreamedWebhook& w, bool claimed) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (ledger_.holds(id)) return;  // claimed back after a missed renewal: it is on its way here already
  ++(claimed ? stats_.stream.claimed : stats_.stream.read);
  const App* app = served_app(w.app_id);
  if (!app || !wanted(*app, w.type, w.channel)) {
    // Another node's configuration differs from this one's: it cannot be delivered from here.
    ledger_.log_unwanted(w);
    ++stats_.dropped;
    ledger_.settle_now(id);
    return;
  }
  int64_t now = steady_();
  int64_t age = std::max<int64_t>(0, wall_() - w.emitted_ms);
  if (age >= settings_.retry_for_ms) {  // e.g. a consumer group made again over an old stream
    ledger_.log_expired(id, age);
    ++stats_.dropped;
    ledger_.settle_now(id);
    return;
  }
  ledger_.hold(id, size_t(std::count_if(outboxes_.begin(), outboxes_.end(),
                                        [&](const Outbox& o) { return o.wants(*app, w.type, w.channel); })));
  bool wake = false;
  into_outboxes(*app, w.type, w.channel, w.json, now - age, id, wake);
  ledger_.settle(id);
}

void WebhookQueue::discard_streamed(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.dropped;
  ledger_.settle_now(id);
}

std::vector<std::string> WebhookQueue::take_settled() {
  std::lock_guard<std::mutex> lock(mutex_);
  return ledger_.take_settled();
}

std::vector<std::string> WebhookQueue::held_entries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return ledger_.held_entries();
}

}  // namespace raptor
