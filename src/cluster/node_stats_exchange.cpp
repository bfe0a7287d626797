#include "cluster/node_stats_exchange.h"

#include "cluster/redis_reply.h"

namespace raptor::cluster {
namespace {

// KEYS: 1 {prefix}stats:nodes (node -> when its hash expires, ms of Redis's clock), 2 this
// node's hash ({prefix}node:{node}:stats). ARGV: 1 node id, 2 TTL ms, 3 the other hashes' key
// head ({prefix}node:), then field, value pairs. Answers [node, [field, value, …], …] for every
// other node whose hash still lives. HSET goes 100 pairs at a time (Lua's unpack has a limit).
constexpr const char* kShare = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('DEL', KEYS[2])
for i = 4, #ARGV, 200 do
  redis.call('HSET', KEYS[2], unpack(ARGV, i, math.min(i + 199, #ARGV)))
end
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local out = {}
for _, node in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if node ~= ARGV[1] then
    local fields = redis.call('HGETALL', ARGV[3] .. node .. ':stats')
    if #fields > 0 then
      out[#out + 1] = node
      out[#out + 1] = fields
    end
  end
end
return out
)lua";

}  // namespace

NodeStatsExchange::NodeStatsExchange(const ClusterSettings& settings, ScriptRunner& redis)
    : settings_(settings), redis_(redis), script_{kShare} {}

void NodeStatsExchange::share(const ClusterBus::StatsFields& fields, ClusterBus::NodeStatsDone done) {
  const std::string& prefix = settings_.prefix;
  std::vector<std::string> args{nodes_key(prefix), node_key(prefix, settings_.node_id),
                                settings_.node_id, std::to_string(ClusterBus::kNodeStatsTtlMs), prefix + "node:"};
  for (const auto& [field, value] : fields) {
    args.push_back(field);
    args.push_back(value);
  }
  redis_.run(script_, 2, std::move(args), [done = std::move(done)](const redisReply* reply) {
    if (!reply || reply->type != REDIS_REPLY_ARRAY) return done(nullptr);
    ClusterBus::NodeStats nodes;
    for (size_t i = 0; i + 1 < reply->elements; i += 2) {
      const redisReply* hash = reply->element[i + 1];
      if (hash->type != REDIS_REPLY_ARRAY) continue;
      auto& node = nodes.emplace_back(std::string(text_of(reply->element[i])), ClusterBus::StatsFields{});
      for (size_t f = 0; f + 1 < hash->elements; f += 2)
        node.second.emplace_back(std::string(text_of(hash->element[f])), std::string(text_of(hash->element[f + 1])));
    }
    done(&nodes);
  });
}

}  // namespace raptor::cluster
