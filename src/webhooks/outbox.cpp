#include "webhooks/outbox.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "webhooks/retry_policy.h"

namespace raptor {
namespace {

unsigned long long ull(uint64_t n) { return n; }

}  // namespace

Outbox::Outbox(const App& app, WebhookEndpoint endpoint, std::string name, Shared& shared)
    : app_(&app), endpoint_(std::move(endpoint)), name_(std::move(name)), shared_(&shared) {}

void Outbox::reconfigured(std::string name) {
  name_ = std::move(name);
  if (batch_) batch_->request.headers = webhook_body::headers(*app_, endpoint_, batch_->request.body);
}

bool Outbox::put(WebhookType type, const std::string& channel, const std::string& json, int64_t emitted_ms,
                 const std::string& entry) {
  const WebhookSettings& settings = shared_->settings;
  if (type == WebhookType::ChannelVacated && vacated_unheard(channel, emitted_ms)) {
    shared_->ledger.settle(entry);
    return false;
  }
  if (held() >= settings.queue_limit) {
    if (overflowed_++ == 0)
      log::warn("%s: %zu events waiting, the limit: dropping the cheapest events until it drains", name_.c_str(),
                held());
    std::optional<WaitingEvent> cheaper = waiting_.drop_cheaper_than(type);
    if (!cheaper) {  // nothing cheaper waits: this one goes
      dropped_unsent(WaitingEvent{emitted_ms, {}, entry, type, channel});
      return false;
    }
    dropped_unsent(*cheaper);
  } else if (overflowed_) {
    log::warn("%s: taking events again; %llu were dropped while it was full", name_.c_str(), ull(overflowed_));
    overflowed_ = 0;
  }
  bool occupied = type == WebhookType::ChannelOccupied;
  if (occupied) unheard_.erase(channel);  // a new occupation: its vacated is to be heard
  waiting_.push(WaitingEvent{emitted_ms, json, entry, type, occupied ? channel : std::string()});
  ++shared_->stats.queued;
  return true;
}

bool Outbox::vacated_unheard(const std::string& channel, int64_t emitted_ms) {
  if (unheard_.erase(channel)) {
    ++shared_->stats.dropped;
    return true;
  }
  const WaitingEvent* occupied = waiting_.occupied(channel);
  if (!occupied) return false;
  // The vacated comes a departure delay after the channel emptied: an occupation shorter than
  // the delay, which the receiver has not been told of yet, is left untold. When the outbox is
  // full, any such pair is.
  bool brief = emitted_ms - occupied->emitted_ms <= 2 * shared_->settings.departure_delay_ms;
  if (!brief && held() < shared_->settings.queue_limit) return false;
  shared_->ledger.settle(waiting_.take_occupied(channel).entry);
  shared_->stats.coalesced += 2;
  return true;
}

void Outbox::dropped_unsent(const WaitingEvent& e) {
  ++shared_->stats.dropped;
  shared_->ledger.settle(e.entry);
  // Bounded (a few MB of names at most): an entry goes with the channel's next vacated or
  // occupied here, but in a cluster another node may deliver that vacated. Past the bound the
  // vacated is sent alone, which only tells the receiver of an end it did not hear begin.
  constexpr size_t kMaxUnheard = 100000;
  if (e.type == WebhookType::ChannelOccupied && unheard_.size() < kMaxUnheard) unheard_.insert(e.channel);
}

void Outbox::settle_all() {
  waiting_.for_each([&](const WaitingEvent& w) { shared_->ledger.settle(w.entry); });
  if (batch_)
    for (const std::string& entry : batch_->entries) shared_->ledger.settle(entry);
}

void Outbox::clear() {
  waiting_.clear();
  batch_.reset();
  in_flight_ = false;
}

int64_t Outbox::due() const {
  if (in_flight_) return INT64_MAX;
  if (batch_) return batch_->retry_at_ms;
  if (waiting_.empty()) return INT64_MAX;
  int64_t first = waiting_.front().emitted_ms;
  const WebhookSettings& settings = shared_->settings;
  return waiting_.size() >= settings.max_batch_events ? first : first + settings.batch_ms;
}

void Outbox::drop_expired(int64_t now) {
  size_t n = 0;
  while (!waiting_.empty() && now - waiting_.front().emitted_ms >= shared_->settings.retry_for_ms) {
    dropped_unsent(waiting_.pop_front());
    ++n;
  }
  if (!n) return;
  log::error("%s: still failing; %zu events dropped that waited longer than %lld s", name_.c_str(), n,
             static_cast<long long>(shared_->settings.retry_for_ms / 1000));
}

std::optional<WebhookRequest> Outbox::next_request(int64_t now, int64_t wall_now, uint64_t& next_id) {
  if (in_flight_) return std::nullopt;
  if (batch_) {
    if (batch_->retry_at_ms > now) return std::nullopt;
    ++batch_->request.attempt;
    ++shared_->stats.retried;
  } else {
    if (failing_) drop_expired(now);
    if (waiting_.empty() || due() > now) return std::nullopt;
    size_t n = std::min(waiting_.size(), shared_->settings.max_batch_events);
    Batch b;
    b.events = n;
    b.oldest_ms = waiting_.front().emitted_ms;
    std::vector<std::string> jsons;
    jsons.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      WaitingEvent w = waiting_.pop_front();
      if (!w.entry.empty()) b.entries.push_back(std::move(w.entry));
      jsons.push_back(std::move(w.json));
    }
    std::vector<const std::string*> events;
    for (const std::string& json : jsons) events.push_back(&json);
    b.request.id = next_id++;
    b.request.app = app_;
    b.request.body = webhook_body::body(wall_now, events);
    b.request.headers = webhook_body::headers(*app_, endpoint_, b.request.body);
    batch_ = std::move(b);
  }
  in_flight_ = true;
  batch_->request.endpoint = &endpoint_;  // valid until the next WebhookQueue::reconfigure()
  return batch_->request;
}

void Outbox::batch_done() {
  for (const std::string& entry : batch_->entries) shared_->ledger.settle(entry);
  batch_.reset();
}

bool Outbox::finish(uint64_t id, int status, const std::string& error, int64_t now) {
  if (!in_flight_ || batch_->request.id != id) return false;
  in_flight_ = false;
  Batch& b = *batch_;
  WebhookStats& stats = shared_->stats;
  const char* name = name_.c_str();
  switch (classify_status(status)) {
    case DeliveryOutcome::Delivered:
      stats.sent += b.events;
      if (failing_) log::info("%s: delivered again, at attempt %d", name, b.request.attempt);
      failing_ = false;
      batch_done();
      return true;
    case DeliveryOutcome::Rejected:
      stats.dropped += b.events;
      log::error("%s: answered HTTP %d; %zu events dropped (only 5xx, 429 and no answer are retried)", name, status,
                 b.events);
      failing_ = false;
      batch_done();
      return true;
    case DeliveryOutcome::Failed:
      break;
  }
  failing_ = true;
  std::string why = status ? "HTTP " + std::to_string(status) : error;
  if (now - b.oldest_ms >= shared_->settings.retry_for_ms) {
    stats.dropped += b.events;
    log::error("%s: %s at attempt %d; %zu events dropped after %lld s of retries", name, why.c_str(),
               b.request.attempt, b.events, static_cast<long long>((now - b.oldest_ms) / 1000));
    batch_done();
    return true;
  }
  int64_t delay = retry_delay_ms(shared_->settings, b.request.attempt);
  b.retry_at_ms = now + delay;
  log::warn("%s: %s at attempt %d; %zu events retried in %lld ms", name, why.c_str(), b.request.attempt, b.events,
            static_cast<long long>(delay));
  return true;
}

}  // namespace raptor
