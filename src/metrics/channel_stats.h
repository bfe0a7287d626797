// Statistics per channel and per app for the stats API (docs/metrics.md#statistics): messages
// published on each channel (API events and client events), in all and over the last minute
// and hour, from which the busiest channels are ranked.
//
// Memory is bounded: per app at most kTrackedChannels channels are followed; when a new one comes
// past that, the one silent for longest is forgotten (the app's own figures keep its messages).
// So the figures of a channel are exact while it is among the busy ones, and a quiet channel may
// show no history. Thread-safe: one lock, taken once per published event and per stats request.
#pragma once
#include <array>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/app.h"
#include "metrics/counters.h"

namespace raptor::metrics {

constexpr size_t kTrackedChannels = 1000;

struct MessageFigures {
  uint64_t total = 0;
  uint64_t last_minute = 0;
  uint64_t last_hour = 0;
};

// Counts in one-second buckets over a minute and one-minute buckets over an hour.
class MessageWindow {
 public:
  void add(int64_t now_s);
  MessageFigures figures(int64_t now_s) const;

 private:
  struct Bucket {
    int64_t at = -1;  // the second (or minute) it counts
    uint32_t n = 0;
    void add(int64_t when);  // one more at `when`, starting afresh when the bucket held an older one
  };
  uint64_t total_ = 0;
  std::array<Bucket, 60> seconds_{};
  std::array<Bucket, 60> minutes_{};
};

class ChannelStats {
 public:
  static ChannelStats& instance();
  // An event was published on `channel` (the hot path).
  void message(const App& app, std::string_view channel, int64_t now_s);
  // Nullopt when the channel is not followed (never published on, or forgotten).
  std::optional<MessageFigures> channel(const App& app, const std::string& channel, int64_t now_s) const;
  MessageFigures app(const App& app, int64_t now_s) const;
  // The `n` channels with the most messages over the last hour, then the last minute.
  std::vector<std::pair<std::string, MessageFigures>> top(const App& app, size_t n, int64_t now_s) const;
  size_t tracked(const App& app) const;

 private:
  struct Tracked {
    MessageWindow window;
    std::list<std::string>::iterator recency;  // its place in AppStats::by_recency
  };
  struct AppStats {
    MessageWindow all;
    std::unordered_map<std::string, Tracked> channels;
    std::list<std::string> by_recency;  // most recently published on first
  };

  mutable std::mutex mutex_;
  std::unordered_map<const App*, AppStats> apps_;
};

// The seconds of the stats' clock (monotonic).
int64_t stats_now_s();
// The engine's one line for each event published: counted for /metrics and the stats API.
inline void api_event(const App& app, std::string_view channel) {
  count(app, AppCount::ApiEvents);
  ChannelStats::instance().message(app, channel, stats_now_s());
}
inline void client_event(const App& app, std::string_view channel) {
  count(app, AppCount::ClientEvents);
  ChannelStats::instance().message(app, channel, stats_now_s());
}

}  // namespace raptor::metrics
