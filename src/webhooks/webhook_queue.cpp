#include "webhooks/webhook_queue.h"

#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "webhooks/retry_policy.h"

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
      wall_(wall ? std::move(wall) : Clock(now_ms<std::chrono::system_clock>)) {
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
                               [&](const Outbox& o) { return o.app == &app && o.endpoint == e; });
      if (kept == outboxes_.end()) {
        next.push_back(Outbox{&app, e, std::move(name)});
        continue;
      }
      next.push_back(std::move(*kept));
      outboxes_.erase(kept);
      Outbox& o = next.back();
      o.name = std::move(name);
      // A batch not yet delivered goes out (again) signed with the app's secret as it is now.
      if (o.batch) o.batch->request.headers = webhook_body::headers(app, o.endpoint, o.batch->request.body);
    }
  }
  for (Outbox& gone : outboxes_) {  // receivers the reload removed
    settle_all(gone);
    if (size_t n = gone.held()) {
      stats_.dropped += n;
      log::warn("%s: removed by a configuration reload; %zu events not delivered", gone.name.c_str(), n);
    }
  }
  outboxes_ = std::move(next);
}

void WebhookQueue::shape_events_of(std::vector<const App*> apps) {
  std::lock_guard<std::mutex> lock(mutex_);
  shaped_apps_ = std::move(apps);
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
        if (first_cache_miss(app, e.channel, now)) wake = enqueue(app, e, now);
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

bool WebhookQueue::first_cache_miss(const App& app, const std::string& channel, int64_t now) {
  if (cache_misses_.size() > 4096) {  // forget the old ones now and then
    for (auto it = cache_misses_.begin(); it != cache_misses_.end();)
      it = now - it->second >= settings_.cache_miss_window_ms ? cache_misses_.erase(it) : std::next(it);
  }
  auto [it, added] = cache_misses_.try_emplace(app.id + '\0' + channel, now);
  if (added) return true;
  if (now - it->second < settings_.cache_miss_window_ms) return false;
  it->second = now;
  return true;
}

bool WebhookQueue::enqueue(const App& app, const WebhookEvent& e, int64_t now) {
  if (std::find(shaped_apps_.begin(), shaped_apps_.end(), &app) != shaped_apps_.end()) {
    if (!wanted(app, e.type, e.channel)) return false;  // the hook is not run for nothing
    if (unshaped_.size() >= settings_.queue_limit) {  // the hook cannot keep up
      if (unshaped_overflowed_++ == 0)
        log::warn("webhooks: %zu events wait for the shape_webhook hook, the limit: dropping new events until it "
                  "catches up", unshaped_.size());
      ++stats_.dropped;
      return false;
    }
    if (unshaped_overflowed_) {
      log::warn("webhooks: the shape_webhook hook caught up; %llu events were dropped meanwhile", ull(unshaped_overflowed_));
      unshaped_overflowed_ = 0;
    }
    unshaped_.push_back(Unshaped{&app, e.type, e.channel, now, webhook_body::event_json(e)});
    return sooner(now);
  }
  return enqueue_json(app, e.type, e.channel, {}, now, &e);
}

bool WebhookQueue::wanted(const App& app, WebhookType type, const std::string& channel) const {
  return std::any_of(outboxes_.begin(), outboxes_.end(),
                     [&](const Outbox& o) { return o.app == &app && o.endpoint.wants(type, channel); });
}

bool WebhookQueue::enqueue_json(const App& app, WebhookType type, const std::string& channel,
                                const std::string& formatted, int64_t emitted_ms, const WebhookEvent* e) {
  if (stream_up_) {  // to the stream, and from there to whichever node reads it
    if (!wanted(app, type, channel)) return false;
    int64_t now = steady_();
    for_stream_.push_back(StreamedWebhook{app.id, type, channel, formatted.empty() ? webhook_body::event_json(*e) : formatted,
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
    if (o.app != &app || !o.endpoint.wants(type, channel)) continue;
    ++taken;
    if (type == WebhookType::ChannelVacated && vacated_unheard(o, channel, emitted_ms)) {
      settle(entry);
      continue;
    }
    if (o.held() >= settings_.queue_limit) {
      if (o.overflowed++ == 0)
        log::warn("%s: %zu events waiting, the limit: dropping the cheapest events until it drains", o.name.c_str(),
                  o.held());
      std::optional<WaitingEvent> cheaper = o.waiting.drop_cheaper_than(type);
      if (!cheaper) {  // nothing cheaper waits: this one goes
        dropped_unsent(o, WaitingEvent{emitted_ms, {}, entry, type, channel});
        continue;
      }
      dropped_unsent(o, *cheaper);
    } else if (o.overflowed) {
      log::warn("%s: taking events again; %llu were dropped while it was full", o.name.c_str(), ull(o.overflowed));
      o.overflowed = 0;
    }
    bool occupied = type == WebhookType::ChannelOccupied;
    if (occupied) o.unheard.erase(channel);  // a new occupation: its vacated is to be heard
    o.waiting.push(WaitingEvent{emitted_ms, json, entry, type, occupied ? channel : std::string()});
    ++stats_.queued;
    wake = sooner(due_of(o)) || wake;
  }
  return taken;
}

bool WebhookQueue::vacated_unheard(Outbox& o, const std::string& channel, int64_t emitted_ms) {
  if (o.unheard.erase(channel)) {
    ++stats_.dropped;
    return true;
  }
  const WaitingEvent* occupied = o.waiting.occupied(channel);
  if (!occupied) return false;
  // The vacated comes a departure delay after the channel emptied: an occupation shorter than
  // the delay, which the receiver has not been told of yet, is left untold. When the outbox is
  // full, any such pair is.
  bool brief = emitted_ms - occupied->emitted_ms <= 2 * settings_.departure_delay_ms;
  if (!brief && o.held() < settings_.queue_limit) return false;
  settle(o.waiting.take_occupied(channel).entry);
  stats_.coalesced += 2;
  return true;
}

void WebhookQueue::dropped_unsent(Outbox& o, const WaitingEvent& e) {
  ++stats_.dropped;
  settle(e.entry);
  // Bounded (a few MB of names at most): an entry goes with the channel's next vacated or
  // occupied here, but in a cluster another node may deliver that vacated. Past the bound the
  // vacated is sent alone, which only tells the receiver of an end it did not hear begin.
  constexpr size_t kMaxUnheard = 100000;
  if (e.type == WebhookType::ChannelOccupied && o.unheard.size() < kMaxUnheard) o.unheard.insert(e.channel);
}

void WebhookQueue::settle(const std::string& entry) {
  if (entry.empty()) return;
  auto it = held_.find(entry);
  if (it == held_.end() || --it->second > 0) return;
  settled_.push_back(entry);
  held_.erase(it);
}

void WebhookQueue::settle_all(const Outbox& o) {
  o.waiting.for_each([&](const WaitingEvent& w) { settle(w.entry); });
  if (o.batch)
    for (const std::string& entry : o.batch->entries) settle(entry);
}

int64_t WebhookQueue::due_of(const Outbox& o) const {
  if (o.in_flight) return INT64_MAX;
  if (o.batch) return o.batch->retry_at_ms;
  if (o.waiting.empty()) return INT64_MAX;
  int64_t first = o.waiting.front().emitted_ms;
  return o.waiting.size() >= settings_.max_batch_events ? first : first + settings_.batch_ms;
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
  std::deque<Unshaped> batch;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    take_due_departures(steady_());
    batch.swap(unshaped_);
  }
  if (batch.empty()) return;
  // Without the lock: the hook may take its time budget, and workers go on emitting meanwhile
  // (behind this batch: the order is kept).
  std::vector<bool> keep(batch.size(), true);
  for (size_t i = 0; i < batch.size(); ++i) {
    Unshaped& u = batch[i];
    if (!policy || !policy->has(*u.app, Policy::Hook::ShapeWebhook)) continue;  // a reload took it away
    PolicyVerdict v = policy->shape_webhook({*u.app, u.json});
    if (v.failed) continue;  // logged; sent as it was
    if (v.kind == PolicyVerdict::Kind::Drop || v.kind == PolicyVerdict::Kind::Deny)
      keep[i] = false;
    else if (v.kind == PolicyVerdict::Kind::Rewrite)
      u.json = std::move(v.data);
  }
  std::lock_guard<std::mutex> lock(mutex_);
  for (size_t i = 0; i < batch.size(); ++i) {
    Unshaped& u = batch[i];
    if (keep[i])
      enqueue_json(*u.app, u.type, u.channel, u.json, u.emitted_ms, nullptr);
    else
      ++stats_.filtered;
  }
}

std::vector<WebhookQueue::Request> WebhookQueue::take_ready() {
  std::vector<Request> out;
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t now = steady_();
  take_due_departures(now);
  for (Outbox& o : outboxes_)
    if (auto r = next_request(o, now)) out.push_back(std::move(*r));
  return out;
}

void WebhookQueue::drop_expired(Outbox& o, int64_t now) {
  size_t n = 0;
  while (!o.waiting.empty() && now - o.waiting.front().emitted_ms >= settings_.retry_for_ms) {
    dropped_unsent(o, o.waiting.pop_front());
    ++n;
  }
  if (!n) return;
  log::error("%s: still failing; %zu events dropped that waited longer than %lld s", o.name.c_str(), n,
             static_cast<long long>(settings_.retry_for_ms / 1000));
}

std::optional<WebhookQueue::Request> WebhookQueue::next_request(Outbox& o, int64_t now) {
  if (o.in_flight) return std::nullopt;
  if (o.batch) {
    if (o.batch->retry_at_ms > now) return std::nullopt;
    ++o.batch->request.attempt;
    ++stats_.retried;
  } else {
    if (o.failing) drop_expired(o, now);
    if (o.waiting.empty() || due_of(o) > now) return std::nullopt;
    size_t n = std::min(o.waiting.size(), settings_.max_batch_events);
    Batch b;
    b.events = n;
    b.oldest_ms = o.waiting.front().emitted_ms;
    std::vector<std::string> jsons;
    jsons.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      WaitingEvent w = o.waiting.pop_front();
      if (!w.entry.empty()) b.entries.push_back(std::move(w.entry));
      jsons.push_back(std::move(w.json));
    }
    std::vector<const std::string*> events;
    for (const std::string& json : jsons) events.push_back(&json);
    b.request.id = next_id_++;
    b.request.app = o.app;
    b.request.body = webhook_body::body(wall_(), events);
    b.request.headers = webhook_body::headers(*o.app, o.endpoint, b.request.body);
    o.batch = std::move(b);
  }
  o.in_flight = true;
  o.batch->request.endpoint = &o.endpoint;  // valid until the next reconfigure()
  return o.batch->request;
}

void WebhookQueue::finish(uint64_t id, int status, const std::string& error) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto o = std::find_if(outboxes_.begin(), outboxes_.end(),
                        [id](const Outbox& x) { return x.in_flight && x.batch->request.id == id; });
  if (o == outboxes_.end()) return;
  o->in_flight = false;
  Batch& b = *o->batch;
  const char* name = o->name.c_str();
  switch (classify_status(status)) {
    case DeliveryOutcome::Delivered:
      for (const std::string& entry : b.entries) settle(entry);
      stats_.sent += b.events;
      if (o->failing) log::info("%s: delivered again, at attempt %d", name, b.request.attempt);
      o->failing = false;
      o->batch.reset();
      return;
    case DeliveryOutcome::Rejected:
      for (const std::string& entry : b.entries) settle(entry);
      stats_.dropped += b.events;
      log::error("%s: answered HTTP %d; %zu events dropped (only 5xx, 429 and no answer are retried)", name, status,
                 b.events);
      o->failing = false;
      o->batch.reset();
      return;
    case DeliveryOutcome::Failed:
      break;
  }
  o->failing = true;
  std::string why = status ? "HTTP " + std::to_string(status) : error;
  int64_t now = steady_();
  if (now - b.oldest_ms >= settings_.retry_for_ms) {
    for (const std::string& entry : b.entries) settle(entry);
    stats_.dropped += b.events;
    log::error("%s: %s at attempt %d; %zu events dropped after %lld s of retries", name, why.c_str(),
               b.request.attempt, b.events, static_cast<long long>((now - b.oldest_ms) / 1000));
    o->batch.reset();
    return;
  }
  int64_t delay = retry_delay_ms(settings_, b.request.attempt);
  b.retry_at_ms = now + delay;
  log::warn("%s: %s at attempt %d; %zu events retried in %lld ms", name, why.c_str(), b.request.attempt, b.events,
            static_cast<long long>(delay));
}

int64_t WebhookQueue::next_due() {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t due = departures_.next_due();
  if (!unshaped_.empty()) due = std::min(due, unshaped_.front().emitted_ms);
  if (!for_stream_.empty() || !settled_.empty()) due = std::min(due, steady_());
  for (const Outbox& o : outboxes_) due = std::min(due, due_of(o));
  promised_due_ = due;
  return due;
}

WebhookStats WebhookQueue::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  WebhookStats s = stats_;
  s.stream.up = stream_up_;
  for (const Outbox& o : outboxes_) s.pending += o.held();
  s.pending += unshaped_.size();
  return s;
}

uint64_t WebhookQueue::flushable() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return count_undelivered(false);
}

uint64_t WebhookQueue::count_undelivered(bool failing_too) const {
  uint64_t n = departures_.size() + unshaped_.size() + for_stream_.size();
  for (const Outbox& o : outboxes_)
    if (failing_too || !o.failing) n += o.held();
  return n;
}

uint64_t WebhookQueue::abandon() {
  std::lock_guard<std::mutex> lock(mutex_);
  uint64_t n = count_undelivered(true);
  departures_ = Departures();
  unshaped_.clear();
  for_stream_.clear();
  size_t in_stream = held_.size();  // pending in Redis: another node claims and delivers them
  for (Outbox& o : outboxes_) {
    o.waiting.clear();
    o.batch.reset();
    o.in_flight = false;
  }
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
  std::vector<StreamedWebhook> out;
  out.swap(for_stream_);
  return out;
}

void WebhookQueue::count_appended(size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.stream.appended += n;
}

void WebhookQueue::count_acked(size_t n) {
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.stream.acked += n;
}

void WebhookQueue::deliver_here(std::vector<StreamedWebhook> events) {
  std::lock_guard<std::mutex> lock(mutex_);
  int64_t now = steady_(), wall = wall_();
  bool wake = false;
  for (const StreamedWebhook& w : events) {
    auto app = std::find_if(apps_->begin(), apps_->end(), [&](const App& a) { return a.id == w.app_id && !a.retired; });
    if (app == apps_->end()) continue;  // removed by a reload meanwhile
    if (into_outboxes(*app, w.type, w.channel, w.json, now - std::max<int64_t>(0, wall - w.emitted_ms), {}, wake))
      ++stats_.stream.local;
  }
}

void WebhookQueue::deliver_streamed(const std::string& id, const StreamedWebhook& w, bool claimed) {
  std::lock_guard<std::mutex> lock(mutex_);
  if (held_.count(id)) return;  // claimed back after a missed renewal: it is on its way here already
  ++(claimed ? stats_.stream.claimed : stats_.stream.read);
  auto app = std::find_if(apps_->begin(), apps_->end(), [&](const App& a) { return a.id == w.app_id && !a.retired; });
  if (app == apps_->end() || !wanted(*app, w.type, w.channel)) {
    // Another node's configuration differs from this one's: it cannot be delivered from here.
    if (std::find(unknown_apps_.begin(), unknown_apps_.end(), w.app_id) == unknown_apps_.end()) {
      unknown_apps_.push_back(w.app_id);
      log::warn("webhooks: the Redis stream holds %s events of app %s (from node %s) that no receiver here wants; "
                "dropped (is every node configured alike?). Logged once per app",
                std::string(webhook_type_name(w.type)).c_str(), w.app_id.c_str(), w.origin.c_str());
    }
    ++stats_.dropped;
    settled_.push_back(id);
    return;
  }
  int64_t now = steady_();
  int64_t age = std::max<int64_t>(0, wall_() - w.emitted_ms);
  if (age >= settings_.retry_for_ms) {  // e.g. a consumer group made again over an old stream
    if (expired_streamed_++ == 0)
      log::error("webhooks: entry %s of the Redis stream was emitted %lld s ago, longer than the retry period; "
                 "dropped. Logged once",
                 id.c_str(), static_cast<long long>(age / 1000));
    ++stats_.dropped;
    settled_.push_back(id);
    return;
  }
  int64_t emitted = now - age;
  // One more than its receivers while it is put into their outboxes (a full one settles at once).
  held_[id] = 1 + size_t(std::count_if(outboxes_.begin(), outboxes_.end(), [&](const Outbox& o) {
                return o.app == &*app && o.endpoint.wants(w.type, w.channel);
              }));
  bool wake = false;
  into_outboxes(*app, w.type, w.channel, w.json, emitted, id, wake);
  settle(id);
}

void WebhookQueue::discard_streamed(const std::string& id) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++stats_.dropped;
  settled_.push_back(id);
}

std::vector<std::string> WebhookQueue::take_settled() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  out.swap(settled_);
  return out;
}

std::vector<std::string> WebhookQueue::held_entries() const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out;
  out.reserve(held_.size());
  for (const auto& [id, receivers] : held_) out.push_back(id);
  return out;
}

}  // namespace raptor
