// Channel occupancy decided in Redis (docs/cluster.md#occupancy-and-webhooks): RedisBus's side.
// Each subscription of a concrete channel made or ended on this worker (wildcard patterns are no
// channel) is one call of a Lua script that Redis runs atomically: it adds the change to this
// node's field of {prefix}occupancy:{app}:{channel}, keeps {prefix}channels:{app} (the occupied
// channels) and {prefix}node:{node}:held (keys holding this node's contribution) in step, and
// decides the channel webhooks once for the cluster: the call that creates the key is the
// channel's first subscription anywhere (channel_occupied, unless it cancels a channel_vacated
// held in {prefix}departures: a page reload onto another node), and the one that removes it the
// last (channel_vacated, held there for the delay). The calls go pipelined on the worker's
// command connection in the order the subscriptions changed; none waits for an answer.
//
// While Redis is unreachable the changes are added up per channel and sent once the worker is
// connected again, without deciding webhooks: this node reported those itself.
//
// Each change names the node's lease under which the worker counted its subscriptions
// (node_lease.h), and Redis refuses it under any other: a new lease means the node's fields were
// taken back (the node was cleaned up as dead) or lost (Redis restarted empty). The worker then
// counts its channels again under the new lease, once (recount_occupancy), as changes from zero;
// the changes refused meanwhile are in those counts.
//
// The sweep takes the due departures atomically (ZRANGEBYSCORE and ZREM in one script) and sends
// them: each once, by whichever node's sweeper takes it, even if the node that decided it died.
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <algorithm>

#include "cluster/cluster_message.h"
#include "cluster/departure.h"
#include "cluster/redis_bus.h"
#include "common/log.h"

namespace raptor::cluster {
namespace {

constexpr int kOccupancyKeys = 5;
constexpr size_t kSweepBatch = 500;  // within Lua's unpack() limit; a full batch sweeps again at once

}  // namespace

// KEYS: 1 {prefix}occupancy:{app}:{channel}, 2 {prefix}channels:{app}, 3 {prefix}node:{node}:held,
// 4 {prefix}departures, 5 the node's lease ({prefix}node:{node}:lease). ARGV: 1 node id, 2 the
// change (subscriptions more, or fewer when negative), 3 the channel, 4 its departure (v\n…),
// 5 the departure delay in ms (0: decide no webhook), 6 the lease the worker counts under.
// Returns 1 when this change is to send channel_occupied, -1 when refused (not the node's
// current lease: nothing changed), else 0.
// replicate_commands: Redis 3.2/4 then replicate the writes that follow TIME (5+ always do).
const char* const RedisBus::kOccupancyScript = R"lua(
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

// KEYS: 1 {prefix}departures. ARGV: 1 the most to take. Returns the departures due now, removed.
const char* const RedisBus::kSweepScript = R"lua(
redis.replicate_commands()
local t = redis.call('TIME')
local now = string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000))
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
)lua";

int64_t RedisBus::decision_delay(const App& app) const {
  return app.webhooks.empty() ? 0 : std::max<int64_t>(departure_delay_ms_, 1);
}

void RedisBus::occupancy_change(const App& app, const std::string& channel, int delta) {
  if (occupancy_lease_ == kNoLease) return;  // counted at the first recount, once the node holds a lease
  if (!connected_) {
    // Reported by this node (docs/cluster.md#failures); Redis gets the sum when it is back.
    auto it = unsent_occupancy_.try_emplace({&app, channel}, 0).first;
    if ((it->second += delta) == 0) unsent_occupancy_.erase(it);
    return;
  }
  send_occupancy(app, channel, delta, decision_delay(app));
}

void RedisBus::send_occupancy(const App& app, const std::string& channel, int64_t delta, int64_t delay) {
  auto answered = [this, &app, channel](const redisReply* reply) {
    if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
      send_decided(app, WebhookType::ChannelOccupied, channel);
  };
  run_script(script_call(occupancy_script_, kOccupancyKeys,
                         {occupancy_key(settings_.prefix, app.id, channel), channels_key(settings_.prefix, app.id),
                          held_key(settings_.prefix, settings_.node_id), departures_key(settings_.prefix),
                          lease_key(settings_.prefix, settings_.node_id), settings_.node_id, std::to_string(delta),
                          channel, vacated_member(app.id, channel), std::to_string(delay),
                          std::to_string(occupancy_lease_)},
                         delay ? ScriptAnswered(std::move(answered)) : ScriptAnswered()));
}

bool RedisBus::recount_occupancy() {
  uint64_t lease = status_.lease.load(std::memory_order_relaxed);
  if (!connected_ || lease == kNoLease || lease == occupancy_lease_) return false;
  occupancy_lease_ = lease;
  unsent_occupancy_.clear();  // in the counts
  return true;
}

void RedisBus::send_unsent_occupancy() {
  auto unsent = std::move(unsent_occupancy_);
  unsent_occupancy_.clear();
  for (const auto& [where, delta] : unsent) send_occupancy(*where.first, where.second, delta, 0);
}

void RedisBus::send_decided(const App& app, WebhookType type, const std::string& channel, std::string_view user_id) {
  if (!engine_) return;
  WebhookEvent e;
  e.type = type;
  e.channel = channel;
  e.user_id = std::string(user_id);
  engine_->emit_cluster_webhook(app, std::move(e));
}

void RedisBus::sweep_departures() {
  if (!connected_ || sweeping_ || !engine_) return;
  sweeping_ = true;
  run_script(script_call(sweep_script_, 1, {departures_key(settings_.prefix), std::to_string(kSweepBatch)},
                         [this](const redisReply* reply) {
                           sweeping_ = false;
                           if (!reply || reply->type != REDIS_REPLY_ARRAY) return;
                           for (size_t i = 0; i < reply->elements; ++i) {
                             const redisReply* m = reply->element[i];
                             if (m->type != REDIS_REPLY_STRING) continue;
                             std::string_view member(m->str, m->len);
                             auto d = parse_departure(member);
                             const App* app = d ? engine_->app_by_id(d->app_id) : nullptr;
                             if (!app) {
                               log::warn("cluster: a departure webhook in Redis for no app of this node was dropped "
                                         "(%.*s)",
                                         int(std::min<size_t>(member.size(), 200)), member.data());
                               continue;
                             }
                             send_decided(*app, d->type, std::string(d->channel), d->user_id);
                           }
                           if (reply->elements >= kSweepBatch) sweep_departures();
                         }));
}

}  // namespace raptor::cluster
