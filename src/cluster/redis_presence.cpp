// Presence decided in Redis (docs/cluster.md#presence): RedisBus's side of it. One Lua script,
// run atomically by Redis, counts a user's connections per node, decides whether a join is the
// user's first in the cluster or a leave its last, and then publishes the numbered member event
// itself, so that the decision, the number and the publication cannot be split or reordered.
// It runs by EVALSHA once SCRIPT LOAD (sent on every new command connection) has answered, and
// by EVAL before that or when Redis has forgotten it (NOSCRIPT, after SCRIPT FLUSH).
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <cstdlib>
#include <memory>

#include "cluster/cluster_message.h"
#include "cluster/redis_bus.h"
#include "common/log.h"

namespace raptor::cluster {
namespace {

// KEYS: 1 {p} (user -> nodes), 2 {p}:info, 3 {p}:version, 4 {p}:node:{node} (user -> connections),
// 5 the channel's pub/sub channel, 6 the node's lease ({prefix}node:{node}:lease), 7 what the node
// holds ({prefix}node:{node}:held). ARGV: 1 user id, 2 delta (1, -1, or 0 to read the roster),
// 3 user_info, 4 the message head, 5 the member event's frame, 6 the lease the subscription was
// counted under ("0" none, "*" whichever: a leave racing its join).
// Returns {version, lease} for a leave, else {version, lease, {user, info, user, info, ...}};
// lease "0" when the node holds none and nothing was counted (node_lease.h).
//
// The change's number never goes back, even when Redis lost {p}:version (restarted empty): it
// starts again from Redis's clock in microseconds, above any number handed out before.
constexpr const char* kPresenceScript = R"lua(
local user, delta = ARGV[1], tonumber(ARGV[2])
local lease = redis.call('GET', KEYS[6])
local changed = false
if not lease then
  lease = '0'
elseif delta > 0 and ARGV[6] ~= lease then
  if redis.call('HINCRBY', KEYS[4], user, 1) == 1 then
    redis.call('SADD', KEYS[7], KEYS[1])
    if redis.call('HINCRBY', KEYS[1], user, 1) == 1 then
      redis.call('HSET', KEYS[2], user, ARGV[3])
      changed = true
    end
  end
elseif delta < 0 and (ARGV[6] == lease or ARGV[6] == '*') then
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
return {version, lease, redis.call('HGETALL', KEYS[2])}
)lua";

constexpr int kKeys = 7;

constexpr size_t kMostUnsentLeaves = 100000;  // per worker; beyond, leaves of an outage are lost

}  // namespace

struct RedisBus::ScriptCall {
  RedisBus* bus;
  int delta;
  std::vector<std::string> args;  // the keys, then ARGV
  uint64_t lease_renewals;        // ClusterStatus::lease_renewals when it was made
  PresenceDone done;
  bool retried = false;  // sent again by EVAL after NOSCRIPT
};

void RedisBus::presence_change(const App& app, const std::string& channel, const std::string& user_id, int delta,
                               std::string_view user_info, std::string_view member_event,
                               std::string_view except_socket_id, uint64_t lease, PresenceDone done) {
  std::string p = presence_key(settings_.prefix, app.id, channel);
  std::string channel_key_ = channel_key(settings_.prefix, app.id, channel);
  auto* call = new ScriptCall{this,
                              delta,
                              {p, p + ":info", p + ":version", p + ":node:" + settings_.node_id,
                               channel_key_, lease_key(settings_.prefix, settings_.node_id),
                               held_key(settings_.prefix, settings_.node_id), user_id, std::to_string(delta),
                               std::string(user_info), member_message_head(settings_.node_id, except_socket_id),
                               std::string(member_event), lease == kAnyLease ? "*" : std::to_string(lease)},
                              status_.lease_renewals.load(std::memory_order_relaxed),
                              std::move(done)};
  // A worker's first subscriber of the channel: its SUBSCRIBE is on its way on the other
  // connection, and Redis may read this script first. Once Redis has confirmed it, every member
  // event the script decides reaches this worker. Later changes queue behind, in order.
  auto it = interests_.find(channel_key_);
  if (it != interests_.end()) {
    Interest& interest = it->second;
    bool subscribing = interest.state == Interest::State::Subscribing ||
                       (interest.state == Interest::State::Unsubscribing && interest.wanted);
    if (subscribing || !interest.waiting_scripts.empty()) {
      interest.waiting_scripts.push_back(call);
      return;
    }
  }
  run_script(call);
}

void RedisBus::run_waiting_scripts(Interest& interest) {
  std::vector<ScriptCall*> waiting = std::move(interest.waiting_scripts);
  interest.waiting_scripts.clear();
  for (ScriptCall* call : waiting) run_script(call);
}

void RedisBus::send_unsent_leaves() {
  std::vector<ScriptCall*> leaves = std::move(unsent_leaves_);
  unsent_leaves_.clear();
  for (ScriptCall* call : leaves) run_script(call);
}

void RedisBus::forget_scripts() {
  for (auto& [key, interest] : interests_)
    for (ScriptCall* call : interest.waiting_scripts) delete call;
  for (ScriptCall* call : unsent_leaves_) delete call;
  interests_.clear();
  unsent_leaves_.clear();
}

void RedisBus::run_script(ScriptCall* call) {
  redisAsyncContext* ac = commands_.context();
  if (!ac) {
    // A leave is kept for when Redis is back (it may still count the member); a join is
    // answered by this node.
    if (call->delta < 0 && !destroying_ && unsent_leaves_.size() < kMostUnsentLeaves) {
      unsent_leaves_.push_back(call);
      return;
    }
    std::unique_ptr<ScriptCall> gone(call);
    if (gone->done && !destroying_) gone->done(nullptr);
    return;
  }
  std::string keys = std::to_string(kKeys);
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  auto add = [&](std::string_view a) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  };
  if (script_sha_.empty()) {
    add("EVAL");
    add(kPresenceScript);
  } else {
    add("EVALSHA");
    add(script_sha_);
  }
  add(keys);
  for (const std::string& a : call->args) add(a);
  redisAsyncCommandArgv(ac, on_script_reply, call, int(argv.size()), argv.data(), lengths.data());
}

void RedisBus::on_script_reply(redisAsyncContext*, void* r, void* privdata) {
  std::unique_ptr<ScriptCall> call(static_cast<ScriptCall*>(privdata));
  RedisBus& bus = *call->bus;
  auto* reply = static_cast<redisReply*>(r);
  if (bus.destroying_) return;
  if (reply && reply->type == REDIS_REPLY_ERROR && std::string_view(reply->str).rfind("NOSCRIPT", 0) == 0 &&
      !call->retried) {
    call->retried = true;
    bus.script_sha_.clear();
    bus.run_script(call.release());
    return;
  }
  bool answered = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements >= 2 &&
                  reply->element[0]->type == REDIS_REPLY_INTEGER && reply->element[1]->type == REDIS_REPLY_STRING;
  if (reply && !answered)
    log::warn("cluster: worker %zu: Redis refused the presence script (%s); presence falls back to this node",
              bus.worker_, reply->type == REDIS_REPLY_ERROR ? reply->str : "unexpected reply");
  if (!call->done) return;
  if (!answered) {
    call->done(nullptr);
    return;
  }
  PresenceAnswer answer;
  answer.version = uint64_t(reply->element[0]->integer);
  answer.lease = std::strtoull(reply->element[1]->str, nullptr, 10);
  // Refused for want of a lease that was made meanwhile: the re-assert it triggered may have
  // passed this subscription by while this was on its way, so another one follows.
  if (answer.lease == kNoLease && call->delta > 0 &&
      call->lease_renewals != bus.status_.lease_renewals.load(std::memory_order_relaxed))
    bus.reassert_due_ = true;
  if (reply->elements >= 3 && reply->element[2]->type == REDIS_REPLY_ARRAY) {
    const redisReply* members = reply->element[2];
    for (size_t i = 0; i + 1 < members->elements; i += 2)
      answer.members.emplace_back(std::string(members->element[i]->str, members->element[i]->len),
                                  std::string(members->element[i + 1]->str, members->element[i + 1]->len));
  }
  call->done(&answer);
}

void RedisBus::load_script(RedisConnection& c) {
  script_sha_.clear();  // a new connection may reach a Redis that never saw it
  redisAsyncCommand(c.context(), on_script_loaded, this, "SCRIPT LOAD %s", kPresenceScript);
}

void RedisBus::on_script_loaded(redisAsyncContext*, void* r, void* privdata) {
  auto* bus = static_cast<RedisBus*>(privdata);
  auto* reply = static_cast<redisReply*>(r);
  if (!bus->destroying_ && reply && reply->type == REDIS_REPLY_STRING) bus->script_sha_.assign(reply->str, reply->len);
}

}  // namespace raptor::cluster
