#include "cluster/channel_state_reader.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <utility>

#include "cluster/channel_state_reply.h"
#include "cluster/cluster_message.h"
#include "common/log.h"
#include "protocol/messages.h"

namespace raptor::cluster {
namespace {

constexpr int64_t kReadDeadlineMs = 2000;
// Pusher has no paging: one answer, bounded, since Redis serves nobody else while the script
// runs. Measured on a loaded 2-vCPU machine: ~1-2 µs per channel listed by name, ~3-15 µs per
// channel and count (tests/bench/cluster-reads.mjs, docs/performance.md).
constexpr size_t kMostListedChannels = 10000;
constexpr size_t kMostCountedChannels = 1000;

bool with_counts(const ChannelQuery& q) { return q.subscription_counts || q.user_counts; }

std::string wanted_counts(const ChannelQuery& q) {
  return std::string(q.subscription_counts ? "s" : "") + (q.user_counts ? "u" : "");
}

}  // namespace

// ARGV[1] the mode:
//  'channel': KEYS[1] occupancy key, KEYS[2] presence key -> {subscriptions, members}
//  'users':   KEYS[1] presence key -> the user ids
//  'list':    KEYS[1] the app's channels set; ARGV[2] occupancy key prefix, ARGV[3] presence key
//             prefix, ARGV[4] name prefix, ARGV[5] the counts wanted ('s' subscriptions, 'u'
//             members, or both), ARGV[6] the most channels
//             -> {truncated, name, subscriptions, members, name, ...} (0 for a count not wanted)
const char* const ChannelStateReader::kStateScript = R"lua(
local function sum(key)
  local n = 0
  for _, v in ipairs(redis.call('HVALS', key)) do n = n + tonumber(v) end
  return n
end
local mode = ARGV[1]
if mode == 'channel' then return {sum(KEYS[1]), redis.call('HLEN', KEYS[2])} end
if mode == 'users' then return redis.call('HKEYS', KEYS[1]) end
local prefix, most = ARGV[4], tonumber(ARGV[6])
local subscriptions, members = string.find(ARGV[5], 's', 1, true), string.find(ARGV[5], 'u', 1, true)
local out, listed = {0}, 0
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if string.sub(name, 1, #prefix) == prefix then
    if listed == most then
      out[1] = 1
      break
    end
    listed = listed + 1
    out[#out + 1] = name
    out[#out + 1] = subscriptions and sum(ARGV[2] .. name) or 0
    out[#out + 1] = members and redis.call('HLEN', ARGV[3] .. name) or 0
  end
end
return out
)lua";

// KEYS[1] occupancy key, KEYS[2] the channel's pub/sub channel. ARGV[1] the message head (ending
// in the frame's head), ARGV[2] the frame's tail, ARGV[3] this node's own count, ARGV[4] '1' to
// publish. Returns the sum, never below this node's own count (Redis may have come back empty).
// Summed and published in one script: Redis publishes the counts in the order it summed them,
// so the last count every subscriber sees is the newest.
const char* const ChannelStateReader::kCountScript = R"lua(
local n = 0
for _, v in ipairs(redis.call('HVALS', KEYS[1])) do n = n + tonumber(v) end
n = math.max(n, tonumber(ARGV[3]))
if n > 0 and ARGV[4] == '1' then redis.call('PUBLISH', KEYS[2], ARGV[1] .. n .. ARGV[2]) end
return n
)lua";

struct ChannelStateReader::Read {
  ChannelQuery query;
  ClusterBus::ChannelStateDone done;  // empty once answered by the deadline
  int64_t deadline_ms;
};

ChannelStateReader::ChannelStateReader(const ClusterSettings& settings, ScriptRunner& scripts, Clock clock,
                                       size_t worker)
    : settings_(settings), scripts_(scripts), clock_(std::move(clock)), worker_(worker) {}

void ChannelStateReader::read(const App& app, const ChannelQuery& query, ClusterBus::ChannelStateDone done) {
  const std::string& prefix = settings_.prefix;
  std::vector<std::string> args;
  int keys = 0;
  switch (query.kind) {
    case ChannelQuery::Kind::Channel:
      args = {occupancy_key(prefix, app.id, query.name), presence_key(prefix, app.id, query.name), "channel"};
      keys = 2;
      break;
    case ChannelQuery::Kind::Users:
      args = {presence_key(prefix, app.id, query.name), "users"};
      keys = 1;
      break;
    case ChannelQuery::Kind::List:
      args = {channels_key(prefix, app.id),        "list",      occupancy_key(prefix, app.id, {}),
              presence_key(prefix, app.id, {}),    query.name,  wanted_counts(query),
              std::to_string(with_counts(query) ? kMostCountedChannels : kMostListedChannels)};
      keys = 1;
      break;
  }
  auto read = std::make_shared<Read>(Read{query, std::move(done), clock_() + kReadDeadlineMs});
  reads_.push_back(read);
  scripts_.run(state_script_, keys, std::move(args), [this, read](const redisReply* reply) { answer(*read, reply); });
}

void ChannelStateReader::answer(Read& read, const redisReply* reply) {
  reads_.erase(std::remove_if(reads_.begin(), reads_.end(),
                              [&](const std::shared_ptr<Read>& r) { return r.get() == &read; }),
               reads_.end());
  if (!read.done) return;  // answered by the deadline already
  std::optional<ChannelState> state = reply ? channel_state_of(read.query, *reply) : std::nullopt;
  // A refusal (an error reply) is logged by the script queue and comes here as null.
  if (reply && !state)
    log::warn("cluster: worker %zu: unexpected reply to the channel-state script; answering from this node", worker_);
  read.done(state ? &*state : nullptr);
}

void ChannelStateReader::expire(int64_t now_ms) {
  std::vector<ClusterBus::ChannelStateDone> expired;
  for (const auto& read : reads_)
    if (read->done && now_ms >= read->deadline_ms) expired.push_back(std::move(read->done)), read->done = nullptr;
  // The reads stay on their way until their reply or the connection's end answers them.
  for (auto& done : expired) done(nullptr);
}

void ChannelStateReader::announce_count(const App& app, const std::string& channel, size_t local_count,
                                        bool to_subscribers, ClusterBus::CountDone done) {
  const std::string& prefix = settings_.prefix;
  std::string key = channel_key(prefix, app.id, channel);
  std::vector<std::string> args{occupancy_key(prefix, app.id, channel), key,
                                count_message_head(settings_.node_id, channel),
                                std::string(messages::kSubscriptionCountTail), std::to_string(local_count),
                                to_subscribers ? "1" : "0"};
  // A worker's first subscriber: Redis may read the script before the SUBSCRIBE on the other
  // connection and publish before this worker listens; the count waits for the confirmation.
  // Only the newest waiting count matters.
  ScriptTiming timing;
  timing.after_subscribe_of = std::move(key);
  timing.newest_only = true;
  // Without a connection, or refused (logged by the script queue): no count is announced.
  scripts_.run(
      count_script_, 2, std::move(args),
      [this, done = std::move(done)](const redisReply* reply) {
        if (!reply) return;
        if (reply->type != REDIS_REPLY_INTEGER) {
          log::warn("cluster: worker %zu: unexpected reply to the subscription count script", worker_);
          return;
        }
        if (done && reply->integer > 0) done(uint64_t(reply->integer));
      },
      std::move(timing));
}

}  // namespace raptor::cluster
