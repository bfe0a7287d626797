#include "cluster/node_lease.h"

#include <hiredis/hiredis.h>

#include <cstdlib>
#include <memory>
#include <string_view>
#include <vector>

#include "cluster/cluster_message.h"
#include "cluster/node_stats_exchange.h"
#include "common/log.h"

namespace raptor::cluster {
namespace {

// KEYS: 1 {prefix}nodes, 2 this node's lease ({prefix}node:{node}:lease), 3 {prefix}cleaning.
// ARGV: 1 node id, 2 node timeout (ms).
// Returns {lease, made anew (0/1), lapsed (0/1), now (ms), {expired nodes}, {abandoned clean-ups}}.
// A node being cleaned up renews nothing until its clean-up is over: what it counted anew
// meanwhile could be undone by its cleaner.
constexpr const char* kRenewScript = R"lua(
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local abandoned = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', '(' .. now, 'LIMIT', 0, 16)
if redis.call('ZSCORE', KEYS[3], ARGV[1]) then return {'0', 0, 1, now, {}, abandoned} end
local expiry = redis.call('ZSCORE', KEYS[1], ARGV[1])
local lease = redis.call('GET', KEYS[2])
local fresh = 0
if not expiry or not lease then
  lease = t[1] .. string.format('%06d', tonumber(t[2]))
  redis.call('SET', KEYS[2], lease)
  fresh = 1
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local lapsed = 0
if not expiry or tonumber(expiry) < now then lapsed = 1 end
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now, 'LIMIT', 0, 16)
return {lease, fresh, lapsed, now, expired, abandoned}
)lua";

// KEYS: 1 {prefix}nodes, 2 {prefix}cleaning, 3 the dead node's held set, 4 its lease,
// 5 {prefix}departures. ARGV: 1 dead node id, 2 claim length (ms), 3 batch, 4 prefix,
// 5 departure delay (ms), 6 the member event message head (cluster_message.h), 7 the caller:
// "judge" claims an expired lease, or takes over a clean-up whose claim expired (its cleaner
// died); "continue" goes on with a clean-up it claimed; "own" is a node starting, which claims
// what an earlier run under its id left whether its lease expired or not; 8, 9 the held key being
// walked and the HSCAN cursor in its node hash, as the last call answered ("" and "0" at first).
// Returns {claimed now (0/1), members removed from the cluster, more to do (0/1), key, cursor}.
//
// The walk of a big node hash goes on from where the last call stopped: HSCAN from cursor 0 at
// each call would pass again over the buckets emptied by the calls before (quadratic).
//
// Each held key is undone as the dead node would have undone it: a presence key's users lose
// the node (member_removed published, numbered, as the presence script does, when it held a
// user's last connection: see redis_presence.cpp), an occupancy key loses the node's field
// (the channel leaves {prefix}channels:{app} with the key). Departure webhooks go to
// {prefix}departures ("m\n{app}\n{channel}\n{user}", "v\n{app}\n{channel}"), due after the delay.
// A key is removed from the held set once nothing of the node is left in it.
constexpr const char* kCleanScript = R"lua(
redis.replicate_commands()
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local dead, prefix = ARGV[1], ARGV[4]
local claimed, mode = 0, ARGV[7]
local expiry = redis.call('ZSCORE', KEYS[1], dead)
local claim = redis.call('ZSCORE', KEYS[2], dead)
if mode == 'continue' then
  if not claim then return {0, 0, 0, '', '0'} end
elseif expiry and (mode == 'own' or tonumber(expiry) < now) then
  redis.call('ZREM', KEYS[1], dead)
  redis.call('DEL', KEYS[4])
  claimed = 1
elseif not (claim and (mode == 'own' or tonumber(claim) < now)) then
  return {0, 0, 0, '', '0'}
end
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), dead)
local budget, removed, due = tonumber(ARGV[3]), 0, now + tonumber(ARGV[5])
local presence, occupancy = prefix .. 'presence:', prefix .. 'occupancy:'
local key, cursor = ARGV[8], ARGV[9]
while budget > 0 do
  if key == '' or redis.call('SISMEMBER', KEYS[3], key) == 0 then
    key, cursor = redis.call('SRANDMEMBER', KEYS[3]), '0'
    if not key then key = '' break end
    budget = budget - 1
  end
  local channel = string.match(key, ':([^:]*)$') or ''
  if string.sub(key, 1, #presence) == presence then
    local app = string.sub(key, #presence + 1, #key - #channel - 1)
    local mine, version = key .. ':node:' .. dead, key .. ':version'
    repeat
      local page = redis.call('HSCAN', mine, cursor, 'COUNT', math.max(budget, 10))
      cursor = page[1]
      budget = budget - 1
      for i = 1, #page[2], 2 do
        local user = page[2][i]
        if redis.call('HDEL', mine, user) == 1 then
          budget = budget - 1
          if redis.call('HINCRBY', key, user, -1) <= 0 then
            redis.call('HDEL', key, user)
            redis.call('HDEL', key .. ':info', user)
            if not redis.call('GET', version) then
              redis.call('SET', version, t[1] .. string.format('%06d', tonumber(t[2])))
            end
            redis.call('INCR', version)
            local frame = '{"event":"pusher_internal:member_removed","channel":' .. cjson.encode(channel) ..
              ',"data":' .. cjson.encode('{"user_id":' .. cjson.encode(user) .. '}') .. '}'
            redis.call('PUBLISH', prefix .. 'ch:' .. app .. ':' .. channel,
              ARGV[6] .. redis.call('GET', version) .. '\n' .. frame)
            redis.call('ZADD', KEYS[5], due, 'm\n' .. app .. '\n' .. channel .. '\n' .. user)
            removed = removed + 1
          end
        end
      end
    until cursor == '0' or budget <= 0
    if redis.call('EXISTS', mine) == 0 then
      redis.call('SREM', KEYS[3], key)
      if redis.call('EXISTS', key) == 0 then redis.call('DEL', version) end
      key = ''
    end
  elseif string.sub(key, 1, #occupancy) == occupancy then
    local app = string.sub(key, #occupancy + 1, #key - #channel - 1)
    redis.call('HDEL', key, dead)
    if redis.call('EXISTS', key) == 0 then
      redis.call('SREM', prefix .. 'channels:' .. app, channel)
      redis.call('ZADD', KEYS[5], due, 'v\n' .. app .. '\n' .. channel)
    end
    redis.call('SREM', KEYS[3], key)
    key = ''
  else
    redis.call('SREM', KEYS[3], key)
    key = ''
  end
end
if redis.call('EXISTS', KEYS[3]) == 1 then return {claimed, removed, 1, key, cursor} end
redis.call('ZREM', KEYS[2], dead)
return {claimed, removed, 0, '', '0'}
)lua";

// KEYS: 1 {prefix}nodes, 2 this node's lease, 3 this node's held set, 4 {prefix}stats:nodes,
// 5 this node's stats hash (cluster/node_stats_exchange.h). ARGV: 1 node id.
// Returns 1 when the lease was given back (the node holds nothing in Redis), else 0.
constexpr const char* kReleaseScript = R"lua(
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('DEL', KEYS[5])
return 1
)lua";

bool is_integer(const redisReply* r) { return r->type == REDIS_REPLY_INTEGER; }

}  // namespace

struct NodeLease::Cleaning {
  Cleaning(std::string n, bool o = false) : node(std::move(n)), own(o) {}
  std::string node;
  bool own = false;         // this node's earlier run, cleaned up before the first renewal
  bool continuing = false;  // claimed (or taken over) by this node: the next batches
  std::string key;          // where the last batch stopped (see kCleanScript)
  std::string cursor = "0";
  bool claimed = false;  // by this node: it says so in the log once done
  uint64_t removed = 0;
  int calls = 0;
};

NodeLease::NodeLease(const ClusterSettings& settings, ClusterStatus& status, ScriptRunner& redis,
                     int64_t departure_delay_ms)
    : settings_(settings),
      status_(status),
      redis_(redis),
      departure_delay_ms_(departure_delay_ms),
      renew_script_{kRenewScript},
      clean_script_{kCleanScript},
      release_script_{kReleaseScript} {}

void NodeLease::tick() {
  if (released_) return;
  if (!earlier_run_cleaned_) {
    // What a run of this node that died (and restarted before its lease expired) counted in
    // Redis is undone first: none of its connections are here.
    if (cleaning_.insert(settings_.node_id).second) clean(std::make_shared<Cleaning>(settings_.node_id, true));
    return;
  }
  if (renewing_) return;  // the last renewal is unanswered yet
  renewing_ = true;
  redis_.run(renew_script_, 3,
             {nodes_key(settings_.prefix), lease_key(settings_.prefix, settings_.node_id), cleaning_key(settings_.prefix),
              settings_.node_id, std::to_string(settings_.node_timeout_s * 1000)},
             [this](const redisReply* reply) {
               renewing_ = false;  // unanswered: dropped (connection_lost() follows) or refused (logged)
               if (reply) renewed(*reply);
             });
}

void NodeLease::release(std::function<void()> done) {
  released_ = true;
  redis_.run(release_script_, 5,
             {nodes_key(settings_.prefix), lease_key(settings_.prefix, settings_.node_id),
              held_key(settings_.prefix, settings_.node_id), NodeStatsExchange::nodes_key(settings_.prefix),
              NodeStatsExchange::node_key(settings_.prefix, settings_.node_id), settings_.node_id},
             [this, done = std::move(done)](const redisReply* reply) {
               if (reply && reply->type == REDIS_REPLY_INTEGER && reply->integer == 1)
                 status_.lease_held.store(false, std::memory_order_relaxed);
               else
                 log::warn("cluster: the drained node keeps its lease in Redis (it still holds state there, or Redis "
                           "did not answer): another node cleans up once it lapses");
               done();
             });
}

void NodeLease::connection_lost() {
  renewing_ = false;
  valid_since_ms_ = -1;
  status_.lease_held.store(false, std::memory_order_relaxed);
  status_.lease.store(ClusterBus::kNoLease, std::memory_order_relaxed);
}

void NodeLease::renewed(const redisReply& r) {
  if (r.type != REDIS_REPLY_ARRAY || r.elements != 6 || r.element[0]->type != REDIS_REPLY_STRING ||
      !is_integer(r.element[1]) || !is_integer(r.element[2]) || !is_integer(r.element[3]) ||
      r.element[4]->type != REDIS_REPLY_ARRAY || r.element[5]->type != REDIS_REPLY_ARRAY) {
    log::warn("cluster: unexpected answer to the node lease script");
    return;
  }
  int64_t now = r.element[3]->integer;
  uint64_t lease = std::strtoull(r.element[0]->str, nullptr, 10);  // 0: being cleaned up
  status_.lease.store(lease, std::memory_order_relaxed);
  status_.lease_held.store(lease != ClusterBus::kNoLease, std::memory_order_relaxed);
  if (r.element[1]->integer) {
    // Not at the first renewal of a new node: Redis lost the lease, or another node took this one for dead.
    if (status_.lease_renewals.fetch_add(1, std::memory_order_relaxed) > 0)
      log::warn("cluster: node %s found its lease gone from Redis (Redis restarted empty, or the node was taken "
                "for dead after not renewing it for %d s); re-asserting its state",
                settings_.node_id.c_str(), settings_.node_timeout_s);
  }
  if (r.element[2]->integer || valid_since_ms_ < 0) valid_since_ms_ = now;
  if (now - valid_since_ms_ < int64_t(settings_.node_timeout_s) * 1000) return;  // not a judge yet
  for (size_t list = 4; list <= 5; ++list) {
    const redisReply* nodes = r.element[list];
    for (size_t i = 0; i < nodes->elements; ++i) {
      if (nodes->element[i]->type != REDIS_REPLY_STRING) continue;
      std::string node(nodes->element[i]->str, nodes->element[i]->len);
      if (!cleaning_.insert(node).second) continue;  // on its way already
      clean(std::make_shared<Cleaning>(std::move(node)));
    }
  }
}

void NodeLease::clean(std::shared_ptr<Cleaning> c) {
  ++c->calls;
  std::vector<std::string> args{nodes_key(settings_.prefix),
                                cleaning_key(settings_.prefix),
                                held_key(settings_.prefix, c->node),
                                lease_key(settings_.prefix, c->node),
                                departures_key(settings_.prefix),
                                c->node,
                                std::to_string(settings_.node_timeout_s * 1000),
                                std::to_string(kBatch),
                                settings_.prefix,
                                std::to_string(departure_delay_ms_),
                                member_message_head(c->node, {}),
                                c->continuing ? "continue" : c->own ? "own" : "judge",
                                c->key,
                                c->cursor};
  redis_.run(clean_script_, 5, std::move(args), [this, c](const redisReply* reply) { cleaned(c, reply); });
}

void NodeLease::cleaned(std::shared_ptr<Cleaning> c, const redisReply* r) {
  bool answered = r && r->type == REDIS_REPLY_ARRAY && r->elements == 5 && is_integer(r->element[0]) &&
                  is_integer(r->element[1]) && is_integer(r->element[2]) &&
                  r->element[3]->type == REDIS_REPLY_STRING && r->element[4]->type == REDIS_REPLY_STRING;
  if (r && !answered) log::warn("cluster: unexpected answer to the clean-up of node %s", c->node.c_str());
  if (answered) {
    if (r->element[0]->integer) {
      c->claimed = true;
      if (!c->own) status_.dead_nodes_cleaned.fetch_add(1, std::memory_order_relaxed);
    }
    c->removed += uint64_t(r->element[1]->integer);
    if (!c->own) status_.dead_members_removed.fetch_add(uint64_t(r->element[1]->integer), std::memory_order_relaxed);
    if (r->element[2]->integer) {
      c->continuing = true;
      c->key.assign(r->element[3]->str, r->element[3]->len);
      c->cursor.assign(r->element[4]->str, r->element[4]->len);
      clean(std::move(c));  // the next batch, after whatever Redis queued meanwhile
      return;
    }
    if (c->own) {
      earlier_run_cleaned_ = true;
      if (c->claimed)
        log::info("cluster: cleaned up what an earlier run of node %s left in Redis (%llu members removed)",
                  c->node.c_str(), (unsigned long long)c->removed);
      cleaning_.erase(c->node);
      tick();  // the first lease now: presence waits for it
      return;
    } else if (c->claimed || c->removed) {
      log::warn("cluster: node %s did not renew its lease for %d s: cleaned up its state (%llu members removed, "
                "%d script calls)",
                c->node.c_str(), settings_.node_timeout_s, (unsigned long long)c->removed, c->calls);
    }
  }
  cleaning_.erase(c->node);
}

}  // namespace raptor::cluster
