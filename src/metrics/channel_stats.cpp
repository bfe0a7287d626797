#include "metrics/channel_stats.h"

#include <algorithm>

namespace raptor::metrics {

void MessageWindow::Bucket::add(int64_t when) {
  if (at != when) *this = {when, 0};
  ++n;
}

void MessageWindow::add(int64_t now_s) {
  ++total_;
  int64_t minute = now_s / 60;
  seconds_[size_t(now_s - minute * 60)].add(now_s);
  minutes_[size_t(minute % 60)].add(minute);
}

MessageFigures MessageWindow::figures(int64_t now_s) const {
  MessageFigures f;
  f.total = total_;
  for (const Bucket& b : seconds_)
    if (b.at > now_s - 60 && b.at <= now_s) f.last_minute += b.n;
  for (const Bucket& b : minutes_)
    if (b.at > now_s / 60 - 60 && b.at <= now_s / 60) f.last_hour += b.n;
  return f;
}

ChannelStats& ChannelStats::instance() {
  static ChannelStats stats;
  return stats;
}

void ChannelStats::message(const App& app, std::string_view channel, int64_t now_s) {
  std::lock_guard<std::mutex> lock(mutex_);
  AppStats& a = apps_[&app];
  a.all.add(now_s);
  std::string name(channel);
  auto it = a.channels.find(name);
  if (it == a.channels.end()) {
    if (a.channels.size() >= kTrackedChannels) {  // forget the one silent for longest
      a.channels.erase(a.by_recency.back());
      a.by_recency.pop_back();
    }
    a.by_recency.push_front(name);
    it = a.channels.emplace(std::move(name), Tracked{{}, a.by_recency.begin()}).first;
  } else if (it->second.recency != a.by_recency.begin()) {
    a.by_recency.splice(a.by_recency.begin(), a.by_recency, it->second.recency);
  }
  it->second.window.add(now_s);
}

std::optional<MessageFigures> ChannelStats::channel(const App& app, const std::string& channel, int64_t now_s) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto a = apps_.find(&app);
  if (a == apps_.end()) return std::nullopt;
  auto it = a->second.channels.find(channel);
  if (it == a->second.channels.end()) return std::nullopt;
  return it->second.window.figures(now_s);
}

MessageFigures ChannelStats::app(const App& app, int64_t now_s) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto a = apps_.find(&app);
  return a == apps_.end() ? MessageFigures{} : a->second.all.figures(now_s);
}

std::vector<std::pair<std::string, MessageFigures>> ChannelStats::top(const App& app, size_t n, int64_t now_s) const {
  std::vector<std::pair<std::string, MessageFigures>> all;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    auto a = apps_.find(&app);
    if (a == apps_.end()) return all;
    for (const auto& [name, tracked] : a->second.channels) all.emplace_back(name, tracked.window.figures(now_s));
  }
  auto busier = [](const auto& x, const auto& y) {
    if (x.second.last_hour != y.second.last_hour) return x.second.last_hour > y.second.last_hour;
    if (x.second.last_minute != y.second.last_minute) return x.second.last_minute > y.second.last_minute;
    return x.first < y.first;
  };
  n = std::min(n, all.size());
  std::partial_sort(all.begin(), all.begin() + long(n), all.end(), busier);
  all.resize(n);
  return all;
}

size_t ChannelStats::tracked(const App& app) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto a = apps_.find(&app);
  return a == apps_.end() ? 0 : a->second.channels.size();
}

int64_t stats_now_s() { return steady_us() / 1000000; }

}  // namespace raptor::metrics
