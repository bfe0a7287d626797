#include "cluster/script_queue.h"

#include <hiredis/async.h>

#include <memory>
#include <utility>

#include "cluster/redis_reply.h"
#include "common/log.h"
#include "common/text.h"
#include "metrics/counters.h"

namespace raptor::cluster {
namespace {

constexpr size_t kMostUnsentLeaves = 100000;  // per worker; beyond, leaves of an outage are lost

}  // namespace

struct ScriptQueue::Call {
  ScriptQueue* queue;
  RedisScript* script;
  int keys;
  std::vector<std::string> args;  // the keys, then ARGV
  ScriptAnswered answered;
  bool keep_while_unreachable;  // a presence leave: sent when Redis is back (it may still count the member)
  bool retried = false;         // sent again by EVAL after NOSCRIPT
  int64_t sent_us = 0;          // when it went, for raptor_redis_script_duration_seconds
};

ScriptQueue::ScriptQueue(RedisConnection& commands, size_t worker, AwaitsSubscribe awaits_subscribe)
    : commands_(commands), worker_(worker), awaits_subscribe_(std::move(awaits_subscribe)) {}

ScriptQueue::~ScriptQueue() { forget(); }

void ScriptQueue::add(RedisScript& script) { scripts_.push_back(&script); }

void ScriptQueue::run(RedisScript& script, int keys, std::vector<std::string> args, ScriptAnswered answered,
                      ScriptTiming timing) {
  auto* call = new Call{this, &script, keys, std::move(args), std::move(answered), timing.keep_while_unreachable};
  const std::string& key = timing.after_subscribe_of;
  if (!key.empty()) {
    auto it = waiting_.find(key);
    if (timing.newest_only) {
      if (awaits_subscribe_(key)) {
        delete std::exchange(waiting_[key].newest, call);
        return;
      }
    } else if (awaits_subscribe_(key) || (it != waiting_.end() && !it->second.in_order.empty())) {
      // Later changes of the channel queue behind, in order.
      waiting_[key].in_order.push_back(call);
      return;
    }
  }
  send(call);
}

void ScriptQueue::send(Call* call) {
  redisAsyncContext* ac = commands_.context();
  if (!ac) {
    if (call->keep_while_unreachable && !forgotten_ && unsent_leaves_.size() < kMostUnsentLeaves) {
      unsent_leaves_.push_back(call);
      return;
    }
    std::unique_ptr<Call> gone(call);
    if (gone->answered && !forgotten_) gone->answered(nullptr);
    return;
  }
  std::string keys = std::to_string(call->keys);
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  argv.reserve(call->args.size() + 3);
  lengths.reserve(call->args.size() + 3);
  auto add = [&](std::string_view a) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  };
  const RedisScript& script = *call->script;
  if (script.sha.empty()) {
    add("EVAL");
    add(script.source);
  } else {
    add("EVALSHA");
    add(script.sha);
  }
  add(keys);
  for (const std::string& a : call->args) add(a);
  call->sent_us = metrics::steady_us();
  if (redisAsyncCommandArgv(ac, on_reply, call, int(argv.size()), argv.data(), lengths.data()) == REDIS_OK &&
      script.changes_state)
    ++sent_;
}

void ScriptQueue::on_reply(redisAsyncContext*, void* r, void* privdata) {
  std::unique_ptr<Call> call(static_cast<Call*>(privdata));
  ScriptQueue& queue = *call->queue;
  auto* reply = static_cast<redisReply*>(r);
  if (queue.forgotten_) return;
  if (call->script->changes_state) --queue.sent_;
  if (reply) metrics::redis_script_answered(metrics::steady_us() - call->sent_us);
  if (!reply && call->keep_while_unreachable && queue.draining_ &&
      queue.unsent_leaves_.size() < kMostUnsentLeaves) {  // see ClusterBus::begin_drain
    queue.unsent_leaves_.push_back(call.release());
    return;
  }
  if (reply && reply->type == REDIS_REPLY_ERROR && starts_with(text_of(reply), "NOSCRIPT") && !call->retried) {
    call->retried = true;
    call->script->sha.clear();
    queue.send(call.release());
    return;
  }
  if (reply && reply->type == REDIS_REPLY_ERROR)
    log::warn("cluster: worker %zu: Redis refused a script (%s); what it decides falls back to this node",
              queue.worker_, reply->str);
  if (call->answered) call->answered(reply && reply->type != REDIS_REPLY_ERROR ? reply : nullptr);
}

size_t ScriptQueue::outstanding() const {
  size_t n = sent_ + unsent_leaves_.size();
  for (const auto& [key, waiting] : waiting_) n += waiting.in_order.size();
  return n;
}

void ScriptQueue::send_unsent_leaves() {
  std::vector<Call*> leaves = std::move(unsent_leaves_);
  unsent_leaves_.clear();
  for (Call* call : leaves) send(call);
}

void ScriptQueue::subscribe_settled(const std::string& key) {
  auto it = waiting_.find(key);
  if (it == waiting_.end()) return;
  Waiting waiting = std::move(it->second);
  waiting_.erase(it);
  for (Call* call : waiting.in_order) send(call);
  if (waiting.newest) send(waiting.newest);
}

void ScriptQueue::forget() {
  forgotten_ = true;
  for (auto& [key, waiting] : waiting_) {
    for (Call* call : waiting.in_order) delete call;
    delete waiting.newest;
  }
  for (Call* call : unsent_leaves_) delete call;
  waiting_.clear();
  unsent_leaves_.clear();
}

void ScriptQueue::load_all() {
  for (RedisScript* script : scripts_) {
    script->sha.clear();  // a new connection may reach a Redis that never saw it
    redisAsyncCommand(commands_.context(), on_loaded, script, "SCRIPT LOAD %s", script->source);
  }
}

void ScriptQueue::on_loaded(redisAsyncContext*, void* r, void* privdata) {
  auto* script = static_cast<RedisScript*>(privdata);
  auto* reply = static_cast<redisReply*>(r);
  if (reply && reply->type == REDIS_REPLY_STRING) script->sha.assign(reply->str, reply->len);
}

}  // namespace raptor::cluster
