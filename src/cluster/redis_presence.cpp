#include "cluster/redis_presence.h"

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <utility>

#include "cluster/cluster_message.h"
#include "cluster/departure.h"
#include "common/log.h"

namespace raptor::cluster {

// KEYS: 1 {p} (user -> nodes), 2 {p}:info, 3 {p}:version, 4 {p}:node:{node} (user -> connections),
// 5 the channel's pub/sub channel, 6 {prefix}departures, 7 {prefix}node:{node}:held (holds {p}
// while {p}:node:{node} exists), 8 the node's lease ({prefix}node:{node}:lease).
// ARGV: 1 user id, 2 delta (1, -1, or 0 to read the roster), 3 user_info, 4 the message head,
// 5 the member event's frame, 6 the member's departure (m\n…), 7 the departure delay in ms (0:
// this change decides no webhook), 8 max_presence_members, 9 the lease the subscription was
// counted under ("0" none, "*" whichever: a leave racing its join).
// Returns {-1, lease} for a refused join, {version, lease} for a leave, else
// {version, lease, {user, info, ...}, added} where added is 1 when this join is to send
// member_added; lease "0" when the node holds none and nothing was counted (node_lease.h).
//
// A join counted under the current lease already (a re-assert) changes nothing, nor does a leave
// of a count made under a lost one. The change's number never goes back, even when Redis lost
// {p}:version (restarted empty): it starts again from Redis's clock in microseconds, above any
// number handed out before.
// replicate_commands: Redis 3.2/4 then replicate the writes that follow TIME (5+ always do).
const char* const RedisPresence::kScript = R"lua(
redis.replicate_commands()
local user, delta, delay = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[7])
local lease = redis.call('GET', KEYS[8])
local changed, added = false, 0
if not lease then
  lease = '0'
elseif delta > 0 and ARGV[9] ~= lease then
  if redis.call('HEXISTS', KEYS[1], user) == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[8]) then
    return {-1, lease}
  end
  if redis.call('HINCRBY', KEYS[4], user, 1) == 1 then
    redis.call('SADD', KEYS[7], KEYS[1])
    if redis.call('HINCRBY', KEYS[1], user, 1) == 1 then
      redis.call('HSET', KEYS[2], user, ARGV[3])
      changed = true
      if delay > 0 and redis.call('ZREM', KEYS[6], ARGV[6]) == 0 then added = 1 end
    end
  end
elseif delta < 0 and (ARGV[9] == lease or ARGV[9] == '*') then
  local here = tonumber(redis.call('HGET', KEYS[4], user) or '0')
  if here > 1 then
    redis.call('HINCRBY', KEYS[4], user, -1)
  elseif here == 1 then
    redis.call('HDEL', KEYS[4], user)
    if redis.call('EXISTS', KEYS[4]) == 0 then redis.call('SREM', KEYS[7], KEYS[1]) end
    if redis.call('HINCRBY', KEYS[1], user, -1) <= 0 then
      redis.call('HDEL', KEYS[1], user)
      redis.call('HDEL', KEYS[2], user)
      changed = true
      if delay > 0 then
        local t = redis.call('TIME')
        redis.call('ZADD', KEYS[6], string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000) + delay), ARGV[6])
      end
    end
  end
end
local version = tonumber(redis.call('GET', KEYS[3]) or '0')
if changed then
  if version == 0 then
    local t = redis.call('TIME')
    redis.call('SET', KEYS[3], t[1] .. string.format('%06d', tonumber(t[2])))
  end
  version = redis.call('INCR', KEYS[3])
  redis.call('PUBLISH', KEYS[5], ARGV[4] .. redis.call('GET', KEYS[3]) .. '\n' .. ARGV[5])
  if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('DEL', KEYS[3]) end
end
if delta < 0 then return {version, lease} end
return {version, lease, redis.call('HGETALL', KEYS[2]), added}
)lua";

namespace {

constexpr int kPresenceKeys = 8;

}  // namespace

RedisPresence::RedisPresence(const ClusterSettings& settings, ScriptRunner& scripts, ClusterInbox& inbox,
                             size_t worker)
    : settings_(settings), scripts_(scripts), inbox_(inbox), worker_(worker) {}

void RedisPresence::change(const App& app, const std::string& channel, const std::string& user_id, int delta,
                           std::string_view user_info, std::string_view member_event,
                           std::string_view except_socket_id, uint64_t lease, int64_t delay,
                           ClusterBus::PresenceDone done) {
  std::string p = presence_key(settings_.prefix, app.id, channel);
  std::string pubsub = channel_key(settings_.prefix, app.id, channel);
  auto answered = [this, &app, channel, user_id, delta, done = std::move(done)](const redisReply* reply) {
    bool valid = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
                 reply->element[0]->type == REDIS_REPLY_INTEGER && reply->element[1]->type == REDIS_REPLY_STRING;
    if (reply && !valid)
      log::warn("cluster: worker %zu: unexpected answer to the presence script; presence falls back to this node",
                worker_);
    if (valid && delta > 0 && reply->elements >= 4 && reply->element[3]->type == REDIS_REPLY_INTEGER &&
        reply->element[3]->integer == 1)
      inbox_.emit_cluster_webhook(app, {WebhookType::MemberAdded, channel, user_id});
    if (!done) return;
    if (!valid) {
      done(nullptr);
      return;
    }
    ClusterBus::PresenceAnswer answer;
    answer.lease = std::strtoull(reply->element[1]->str, nullptr, 10);
    if (reply->element[0]->integer < 0) {
      answer.refused = true;
      done(&answer);
      return;
    }
    answer.version = uint64_t(reply->element[0]->integer);
    if (reply->elements >= 3 && reply->element[2]->type == REDIS_REPLY_ARRAY) {
      const redisReply* members = reply->element[2];
      for (size_t i = 0; i + 1 < members->elements; i += 2)
        answer.members.emplace_back(std::string(members->element[i]->str, members->element[i]->len),
                                    std::string(members->element[i + 1]->str, members->element[i + 1]->len));
    }
    done(&answer);
  };
  // A worker's first subscriber of the channel: its SUBSCRIBE is on its way on the other
  // connection, and Redis may read this script first. Once Redis has confirmed it, every member
  // event the script decides reaches this worker. Later changes queue behind, in order.
  ScriptTiming timing;
  timing.keep_while_unreachable = delta < 0;
  timing.after_subscribe_of = pubsub;
  scripts_.run(script_, kPresenceKeys,
               {p, p + ":info", p + ":version", p + ":node:" + settings_.node_id, pubsub,
                departures_key(settings_.prefix), held_key(settings_.prefix, settings_.node_id),
                lease_key(settings_.prefix, settings_.node_id), user_id, std::to_string(delta), std::string(user_info),
                member_message_head(settings_.node_id, except_socket_id), std::string(member_event),
                member_removed_member(app.id, channel, user_id), std::to_string(delay),
                std::to_string(app.max_presence_members), lease == ClusterBus::kAnyLease ? "*" : std::to_string(lease)},
               std::move(answered), std::move(timing));
}

}  // namespace raptor::cluster
