#include "cluster/departure_sweeper.h"

#include <hiredis/hiredis.h>

#include <algorithm>
#include <string>
#include <utility>

#include "cluster/cluster_message.h"
#include "cluster/departure.h"
#include "common/log.h"

namespace raptor::cluster {
namespace {

constexpr size_t kSweepBatch = 500;  // within Lua's unpack() limit; a full batch sweeps again at once

}  // namespace

// KEYS: 1 {prefix}departures. ARGV: 1 the most to take. Returns the departures due now, removed.
const char* const DepartureSweeper::kScript = R"lua(
redis.replicate_commands()
local t = redis.call('TIME')
local now = string.format('%.0f', t[1] * 1000 + math.floor(t[2] / 1000))
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[1]))
if #due > 0 then redis.call('ZREM', KEYS[1], unpack(due)) end
return due
)lua";

DepartureSweeper::DepartureSweeper(const ClusterSettings& settings, ScriptRunner& scripts, ClusterInbox& inbox,
                                   std::function<bool()> connected)
    : settings_(settings), scripts_(scripts), inbox_(inbox), connected_(std::move(connected)) {}

void DepartureSweeper::sweep() {
  if (sweeping_ || !connected_()) return;
  sweeping_ = true;
  scripts_.run(script_, 1, {departures_key(settings_.prefix), std::to_string(kSweepBatch)},
               [this](const redisReply* reply) {
                 sweeping_ = false;
                 if (!reply || reply->type != REDIS_REPLY_ARRAY) return;
                 for (size_t i = 0; i < reply->elements; ++i) {
                   const redisReply* m = reply->element[i];
                   if (m->type != REDIS_REPLY_STRING) continue;
                   std::string_view member(m->str, m->len);
                   auto d = parse_departure(member);
                   const App* app = d ? inbox_.app_by_id(d->app_id) : nullptr;
                   if (!app) {
                     log::warn("cluster: a departure webhook in Redis for no app of this node was dropped (%.*s)",
                               int(std::min<size_t>(member.size(), 200)), member.data());
                     continue;
                   }
                   inbox_.emit_cluster_webhook(*app, {d->type, std::string(d->channel), std::string(d->user_id)});
                 }
                 if (reply->elements >= kSweepBatch) sweep();
               });
}

}  // namespace raptor::cluster
