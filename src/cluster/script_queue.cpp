// RedisBus's Lua scripts (presence, occupancy, the departures' sweep, the channel reads and
// subscription counts, and NodeLease's lease and clean-up): how a call travels. Each runs by
// EVALSHA once SCRIPT LOAD (sent on every new command connection) has answered, and by EVAL
// before that or when Redis has forgotten it (NOSCRIPT, after SCRIPT FLUSH or a restart). Calls
// of scripts that change state are counted until answered: a drain waits for them
// (changes_outstanding); the read-only ones are not (RedisScript::changes_state).
// All go on the worker's one command connection, pipelined: Redis runs a worker's calls in the
// order it made them, and nothing waits for an answer.
#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <memory>
#include <utility>

#include "cluster/redis_bus.h"
#include "common/log.h"

namespace raptor::cluster {
namespace {

constexpr size_t kMostUnsentLeaves = 100000;  // per worker; beyond, leaves of an outage are lost

}  // namespace

struct RedisBus::ScriptCall {
  RedisBus* bus;
  Script* script;
  int keys;
  std::vector<std::string> args;  // the keys, then ARGV
  ScriptAnswered answered;
  bool keep_while_unreachable;  // a presence leave: sent when Redis is back (it may still count the member)
  bool retried = false;         // sent again by EVAL after NOSCRIPT
};

RedisBus::ScriptCall* RedisBus::script_call(Script& script, int keys, std::vector<std::string> args,
                                            ScriptAnswered answered, bool keep_while_unreachable) {
  return new ScriptCall{this, &script, keys, std::move(args), std::move(answered), keep_while_unreachable};
}

void RedisBus::run(RedisScript& script, int keys, std::vector<std::string> args, ScriptAnswered answered) {
  run_script(script_call(script, keys, std::move(args), std::move(answered)));
}

void RedisBus::run_script(ScriptCall* call) {
  redisAsyncContext* ac = commands_.context();
  if (!ac) {
    if (call->keep_while_unreachable && !destroying_ && unsent_leaves_.size() < kMostUnsentLeaves) {
      unsent_leaves_.push_back(call);
      return;
    }
    std::unique_ptr<ScriptCall> gone(call);
    if (gone->answered && !destroying_) gone->answered(nullptr);
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
  const Script& script = *call->script;
  if (script.sha.empty()) {
    add("EVAL");
    add(script.source);
  } else {
    add("EVALSHA");
    add(script.sha);
  }
  add(keys);
  for (const std::string& a : call->args) add(a);
  if (redisAsyncCommandArgv(ac, on_script_reply, call, int(argv.size()), argv.data(), lengths.data()) == REDIS_OK &&
      script.changes_state)
    ++scripts_sent_;
}

void RedisBus::on_script_reply(redisAsyncContext*, void* r, void* privdata) {
  std::unique_ptr<ScriptCall> call(static_cast<ScriptCall*>(privdata));
  RedisBus& bus = *call->bus;
  auto* reply = static_cast<redisReply*>(r);
  if (bus.destroying_) return;
  if (call->script->changes_state) --bus.scripts_sent_;
  if (!reply && call->keep_while_unreachable && bus.draining_ &&
      bus.unsent_leaves_.size() < kMostUnsentLeaves) {  // see ClusterBus::begin_drain
    bus.unsent_leaves_.push_back(call.release());
    return;
  }
  if (reply && reply->type == REDIS_REPLY_ERROR && std::string_view(reply->str).rfind("NOSCRIPT", 0) == 0 &&
      !call->retried) {
    call->retried = true;
    call->script->sha.clear();
    bus.run_script(call.release());
    return;
  }
  if (reply && reply->type == REDIS_REPLY_ERROR)
    log::warn("cluster: worker %zu: Redis refused a script (%s); what it decides falls back to this node",
              bus.worker_, reply->str);
  if (call->answered) call->answered(reply && reply->type != REDIS_REPLY_ERROR ? reply : nullptr);
}

size_t RedisBus::changes_outstanding() const {
  size_t n = scripts_sent_ + unsent_leaves_.size() + unsent_occupancy_.size();
  for (const auto& [key, interest] : interests_) n += interest.waiting_scripts.size();
  return n;
}

void RedisBus::send_unsent_leaves() {
  std::vector<ScriptCall*> leaves = std::move(unsent_leaves_);
  unsent_leaves_.clear();
  for (ScriptCall* call : leaves) run_script(call);
}

void RedisBus::run_waiting_scripts(Interest& interest) {
  std::vector<ScriptCall*> waiting = std::move(interest.waiting_scripts);
  interest.waiting_scripts.clear();
  for (ScriptCall* call : waiting) run_script(call);
  if (interest.waiting_count) send_count(std::exchange(interest.waiting_count, nullptr));
}

void RedisBus::forget_scripts() {
  for (auto& [key, interest] : interests_) {
    for (ScriptCall* call : interest.waiting_scripts) delete call;
    delete interest.waiting_count;
  }
  for (ScriptCall* call : unsent_leaves_) delete call;
  interests_.clear();
  unsent_leaves_.clear();
}

void RedisBus::load_scripts(RedisConnection& c) {
  std::vector<Script*> scripts{&presence_script_, &occupancy_script_, &sweep_script_, &channel_state_script_,
                               &count_script_};
  if (lease_) lease_->add_scripts(scripts);
  for (Script* script : scripts) {
    script->sha.clear();  // a new connection may reach a Redis that never saw it
    redisAsyncCommand(c.context(), on_script_loaded, script, "SCRIPT LOAD %s", script->source);
  }
}

void RedisBus::on_script_loaded(redisAsyncContext*, void* r, void* privdata) {
  auto* script = static_cast<Script*>(privdata);
  auto* reply = static_cast<redisReply*>(r);
  if (reply && reply->type == REDIS_REPLY_STRING) script->sha.assign(reply->str, reply->len);
}

}  // namespace raptor::cluster
