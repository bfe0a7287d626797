#include "core/channel_directory.h"

#include "protocol/channel_name.h"

namespace raptor {

void ChannelDirectory::add(Record& r, size_t worker) {
  ++r.subscriptions;
  r.workers |= uint64_t(1) << worker;
}

void ChannelDirectory::remove(Record& r, size_t worker, size_t local_count) {
  if (r.subscriptions > 0) --r.subscriptions;
  if (local_count == 0) r.workers &= ~(uint64_t(1) << worker);
}

void ChannelDirectory::notify(const App& app, WebhookType type, const std::string& channel,
                              const std::string& user_id) const {
  if (!webhooks_ || app.webhooks.empty()) return;
  WebhookEvent e;
  e.type = type;
  e.channel = channel;
  e.user_id = user_id;
  webhooks_->emit(app, std::move(e));
}

void ChannelDirectory::subscribed(const App& app, const std::string& channel, size_t worker, bool report) {
  std::lock_guard<std::mutex> lock(mutex_);
  Record& r = apps_[&app][channel];
  add(r, worker);
  if (report && r.subscriptions == 1) notify(app, WebhookType::ChannelOccupied, channel);
}

void ChannelDirectory::unsubscribed(const App& app, const std::string& channel, size_t worker, size_t local_count,
                                    bool report) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto app_it = apps_.find(&app);
  if (app_it == apps_.end()) return;
  auto it = app_it->second.find(channel);
  if (it == app_it->second.end()) return;
  bool was_occupied = it->second.subscriptions > 0;
  remove(it->second, worker, local_count);
  if (report && was_occupied && it->second.subscriptions == 0) notify(app, WebhookType::ChannelVacated, channel);
  erase_if_unused(app_it->second, it);
}

void ChannelDirectory::erase_if_unused(Channels& channels, Channels::iterator it) {
  const Record& r = it->second;
  if (r.subscriptions == 0 && r.workers == 0 && r.roster.user_count() == 0) channels.erase(it);
}

std::optional<ChannelDirectory::Join> ChannelDirectory::join(const App& app, const std::string& channel,
                                                             size_t worker, const std::string& user_id,
                                                             std::string user_info_json, const Announce& announce,
                                                             bool sees_roster, bool report) {
  std::lock_guard<std::mutex> lock(mutex_);
  Channels& channels = apps_[&app];
  auto it = channels.try_emplace(channel).first;
  Record& r = it->second;
  if (!r.roster.contains(user_id) && r.roster.user_count() >= app.max_presence_members) {
    erase_if_unused(channels, it);
    return std::nullopt;
  }
  add(r, worker);
  if (report && r.subscriptions == 1) notify(app, WebhookType::ChannelOccupied, channel);
  Join j;
  j.first = r.roster.add(user_id, std::move(user_info_json));
  if (j.first) ++r.version;
  j.version = r.version;
  j.roster_json = r.roster.to_json_for(user_id, sees_roster);
  if (j.first) {
    announce(r.version, r.workers);
    if (report) notify(app, WebhookType::MemberAdded, channel, user_id);
  }
  return j;
}

ChannelDirectory::Leave ChannelDirectory::leave(const App& app, const std::string& channel, size_t worker,
                                                size_t local_count, const std::string& user_id,
                                                const Announce& announce, bool report, bool report_member) {
  std::lock_guard<std::mutex> lock(mutex_);
  Leave l;
  auto app_it = apps_.find(&app);
  if (app_it == apps_.end()) return l;
  auto it = app_it->second.find(channel);
  if (it == app_it->second.end()) return l;
  Record& r = it->second;
  bool was_occupied = r.subscriptions > 0;
  remove(r, worker, local_count);
  l.last = r.roster.remove(user_id);
  if (l.last) {
    ++r.version;
    announce(r.version, r.workers | (uint64_t(1) << worker));  // this worker may just have emptied
    if (report_member) notify(app, WebhookType::MemberRemoved, channel, user_id);
  }
  if (report && was_occupied && r.subscriptions == 0) notify(app, WebhookType::ChannelVacated, channel);
  l.version = r.version;
  erase_if_unused(app_it->second, it);
  return l;
}

std::pair<std::string, uint64_t> ChannelDirectory::roster(const App& app, const std::string& channel,
                                                          const std::string& user_id, bool sees_roster) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto app_it = apps_.find(&app);
  if (app_it != apps_.end()) {
    auto it = app_it->second.find(channel);
    if (it != app_it->second.end()) return {it->second.roster.to_json_for(user_id, sees_roster), it->second.version};
  }
  return {PresenceRoster().to_json(), 0};
}

std::optional<std::string> ChannelDirectory::user_info(const App& app, const std::string& channel,
                                                       const std::string& user_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto app_it = apps_.find(&app);
  if (app_it == apps_.end()) return std::nullopt;
  auto it = app_it->second.find(channel);
  if (it == app_it->second.end()) return std::nullopt;
  return it->second.roster.user_info(user_id);
}

bool ChannelDirectory::count_changed(const App& app, const std::string& channel, int64_t now_ms,
                                     const CountAnnounce& announce) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto app_it = apps_.find(&app);
  if (app_it == apps_.end()) return false;
  auto it = app_it->second.find(channel);
  if (it == app_it->second.end()) return false;  // no subscribers left to tell
  Record& r = it->second;
  if (r.subscriptions > kCountThrottleAbove && now_ms - r.count_announced_ms < kCountThrottleMs) {
    throttled_counts_.emplace(&app, channel);
    return true;
  }
  r.count_announced_ms = now_ms;
  throttled_counts_.erase({&app, channel});
  announce(app, channel, r.subscriptions, r.workers);
  return true;
}

void ChannelDirectory::flush_counts(int64_t now_ms, const CountAnnounce& announce) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto pending = throttled_counts_.begin(); pending != throttled_counts_.end();) {
    auto& [app, channel] = *pending;
    auto app_it = apps_.find(app);
    auto it = app_it == apps_.end() ? Channels::iterator() : app_it->second.find(channel);
    if (app_it == apps_.end() || it == app_it->second.end()) {
      pending = throttled_counts_.erase(pending);  // the channel emptied meanwhile
      continue;
    }
    Record& r = it->second;
    if (now_ms - r.count_announced_ms < kCountThrottleMs) {
      ++pending;
      continue;
    }
    r.count_announced_ms = now_ms;
    announce(*app, channel, r.subscriptions, r.workers);
    pending = throttled_counts_.erase(pending);
  }
}

void ChannelDirectory::pattern_subscribed(const App& app, const std::string& pattern, size_t worker) {
  std::lock_guard<std::mutex> lock(mutex_);
  Patterns& patterns = patterns_[&app];
  PatternRecord& r = patterns.records[pattern];
  if (r.subscriptions++ == 0) {
    patterns.index.add(pattern);
    pattern_count_.fetch_add(1, std::memory_order_relaxed);
  }
  r.workers |= uint64_t(1) << worker;
}

void ChannelDirectory::pattern_unsubscribed(const App& app, const std::string& pattern, size_t worker,
                                            size_t local_count) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto app_it = patterns_.find(&app);
  if (app_it == patterns_.end()) return;
  Patterns& patterns = app_it->second;
  auto it = patterns.records.find(pattern);
  if (it == patterns.records.end()) return;
  PatternRecord& r = it->second;
  if (local_count == 0) r.workers &= ~(uint64_t(1) << worker);
  if (--r.subscriptions > 0) return;
  patterns.index.remove(pattern);
  patterns.records.erase(it);
  pattern_count_.fetch_sub(1, std::memory_order_relaxed);
  if (patterns.records.empty()) patterns_.erase(app_it);
}

ChannelDirectory::Route ChannelDirectory::route(const App& app, const std::string& channel) const {
  std::lock_guard<std::mutex> lock(mutex_);
  Route route;
  if (auto app_it = apps_.find(&app); app_it != apps_.end()) {
    auto it = app_it->second.find(channel);
    if (it != app_it->second.end()) route.workers = it->second.workers;
  }
  auto app_it = patterns_.find(&app);
  if (app_it == patterns_.end()) return route;
  const Patterns& patterns = app_it->second;
  std::vector<std::string> matched;
  patterns.index.match(channel, [&](const std::string& pattern) {
    matched.push_back(pattern);
    route.workers |= patterns.records.at(pattern).workers;
  });
  if (!matched.empty()) route.patterns = std::make_shared<const std::vector<std::string>>(std::move(matched));
  return route;
}

ChannelSnapshot ChannelDirectory::snapshot_of(const std::string& channel, const Record& r) const {
  ChannelSnapshot s;
  s.presence = channel_type(channel) == ChannelType::Presence;
  s.subscription_count = r.subscriptions;
  s.occupied = r.subscriptions > 0;
  s.user_count = r.roster.user_count();
  return s;
}

ChannelSnapshot ChannelDirectory::snapshot(const App& app, const std::string& channel) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto app_it = apps_.find(&app);
  if (app_it != apps_.end()) {
    auto it = app_it->second.find(channel);
    if (it != app_it->second.end()) return snapshot_of(channel, it->second);
  }
  ChannelSnapshot empty;
  empty.presence = channel_type(channel) == ChannelType::Presence;
  return empty;
}

std::vector<std::pair<std::string, ChannelSnapshot>> ChannelDirectory::occupied(const App& app,
                                                                                std::string_view prefix) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::pair<std::string, ChannelSnapshot>> out;
  auto app_it = apps_.find(&app);
  if (app_it == apps_.end()) return out;
  for (auto it = app_it->second.lower_bound(std::string(prefix)); it != app_it->second.end(); ++it) {
    if (it->first.compare(0, prefix.size(), prefix) != 0) break;
    if (it->second.subscriptions > 0) out.emplace_back(it->first, snapshot_of(it->first, it->second));
  }
  return out;
}

std::optional<std::string> ChannelDirectory::users(const App& app, const std::string& channel) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto app_it = apps_.find(&app);
  if (app_it == apps_.end()) return std::nullopt;
  auto it = app_it->second.find(channel);
  if (it == app_it->second.end() || it->second.roster.user_count() == 0) return std::nullopt;
  return it->second.roster.users_json();
}

}  // namespace raptor
