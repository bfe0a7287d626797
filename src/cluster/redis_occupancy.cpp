#include "cluster/redis_occupancy.h"

#include <hiredis/hiredis.h>

#include "cluster/cluster_message.h"
#include "cluster/departure.h"

namespace raptor::cluster {
namespace {

constexpr int kOccupancyKeys = 5;

}  // namespace

// KEYS: 1 {prefix}occupancy:{app}:{channel}, 2 {prefix}channels:{app}, 3 {prefix}node:{node}:held,
// 4 {prefix}departures, 5 the node's lease ({prefix}node:{node}:lease). ARGV: 1 node id, 2 the
// change (subscriptions more, or fewer when negative), 3 the channel, 4 its departure (v\n…),
// 5 the departure delay in ms (0: decide no webhook), 6 the lease the worker counts under.
// Returns 1 when this change is to send channel_occupied, -1 when refused (not the node's
// current lease: nothing changed), else 0.
// replicate_commands: Redis 3.2/4 then replicate the writes that follow TIME (5+ always do).
const char* const RedisOccupancy::kScript = R"lua(
redis.replicate_commands()
if redis.call('GET', KEYS[5]) ~= ARGV[6] then return -1 end
local node, delta = ARGV[1], tonumber(ARGV[2])
local existed = redis.call('EXISTS', KEYS[1]) == 1
local n = redis.call('HINCRBY', KEYS[1], node, delta)
if n <= 0 then
  redis.call('HDEL', KEYS[1], node)
  redis.call('SREM', KEYS[3], KEYS[1])
elseif n - delta <= 0 then
  redis.call('SADD', KEYS[3], KEYS[1])
end
local exists = n > 0 or redis.call('EXISTS', KEYS[1]) == 1
if exists == existed then return 0 end
local delay = tonumber(ARGV[5])
if exists then
  redis.call('SADD', KEYS[2], ARGV[3])
  if delay > 0 and redis.call('ZREM', KEYS[4], ARGV[4]) == 0 then return 1 end
  return 0
end
redis.call('SREM', KEYS[2], ARGV[3])
if delay > 0 then
  local t = redis.call('TIME')
  redis.call('ZADD', KEYS[4], string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000) + delay), ARGV[4])
end
return 0
)lua";

RedisOccupancy::RedisOccupancy(const ClusterSettings& settings, ScriptRunner& scripts, ClusterInbox& inbox)
    : settings_(settings), scripts_(scripts), inbox_(inbox) {}

void RedisOccupancy::change(const App& app, const std::string& channel, int delta, bool connected, int64_t delay) {
  if (lease_ == ClusterBus::kNoLease) return;  // counted at the first recount, once the node holds a lease
  if (!connected) {
    // Reported by this node (docs/cluster.md#failures); Redis gets the sum when it is back.
    auto it = unsent_.try_emplace({&app, channel}, 0).first;
    if ((it->second += delta) == 0) unsent_.erase(it);
    return;
  }
  send(app, channel, delta, delay);
}

void RedisOccupancy::send(const App& app, const std::string& channel, int64_t delta, int64_t delay) {
  auto answered = [this, &app, channel](const redisReply* reply) {
    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
      inbox_.emit_cluster_webhook(app, {WebhookType::ChannelOccupied, channel});
  };
  scripts_.run(script_, kOccupancyKeys,
               {occupancy_key(settings_.prefix, app.id, channel), channels_key(settings_.prefix, app.id),
                held_key(settings_.prefix, settings_.node_id), departures_key(settings_.prefix),
                lease_key(settings_.prefix, settings_.node_id), settings_.node_id, std::to_string(delta), channel,
                vacated_member(app.id, channel), std::to_string(delay), std::to_string(lease_)},
               delay ? ScriptAnswered(std::move(answered)) : ScriptAnswered());
}

bool RedisOccupancy::recount(bool connected, uint64_t lease) {
  if (!connected || lease == ClusterBus::kNoLease || lease == lease_) return false;
  lease_ = lease;
  unsent_.clear();  // in the counts
  return true;
}

void RedisOccupancy::send_unsent() {
  auto unsent = std::move(unsent_);
  unsent_.clear();
  for (const auto& [where, delta] : unsent) send(*where.first, where.second, delta, 0);
}

}  // namespace raptor::cluster
