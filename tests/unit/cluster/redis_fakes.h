// Stand-ins for what cluster/'s parts talk to, so that each is tested without a Redis: replies
// built by hand as hiredis hands them over, a ScriptRunner that keeps the calls for the test to
// answer, and a ClusterInbox that records what the cluster handed the engine.
#pragma once
#include <hiredis/hiredis.h>

#include <deque>
#include <string>
#include <vector>

#include "cluster/redis_script.h"
#include "core/app.h"
#include "core/cluster_inbox.h"

namespace raptor::test {

// Replies as hiredis builds them; they live as long as the builder.
struct Replies {
  std::deque<redisReply> replies;
  std::deque<std::string> texts;
  std::deque<std::vector<redisReply*>> arrays;

  redisReply* integer(long long n) {
    redisReply& r = replies.emplace_back();
    r.type = REDIS_REPLY_INTEGER;
    r.integer = n;
    return &r;
  }
  redisReply* text(const std::string& s, int type = REDIS_REPLY_STRING) {
    std::string& t = texts.emplace_back(s);
    redisReply& r = replies.emplace_back();
    r.type = type;
    r.str = t.data();
    r.len = t.size();
    return &r;
  }
  redisReply* array(std::vector<redisReply*> elements) {
    std::vector<redisReply*>& e = arrays.emplace_back(std::move(elements));
    redisReply& r = replies.emplace_back();
    r.type = REDIS_REPLY_ARRAY;
    r.elements = e.size();
    r.element = e.data();
    return &r;
  }
};

// Keeps each call; the test answers it (or not).
struct KeptScripts : cluster::ScriptRunner {
  struct Call {
    cluster::RedisScript* script;
    int keys;
    std::vector<std::string> args;
    cluster::ScriptAnswered answered;
    cluster::ScriptTiming timing;
  };
  std::vector<Call> calls;

  void run(cluster::RedisScript& script, int keys, std::vector<std::string> args, cluster::ScriptAnswered answered,
           cluster::ScriptTiming timing = {}) override {
    calls.push_back({&script, keys, std::move(args), std::move(answered), std::move(timing)});
  }
  // Answers call `i` with `reply` (null: none came).
  void answer(size_t i, const redisReply* reply) {
    if (calls.at(i).answered) calls.at(i).answered(reply);
  }
};

// Records what the cluster hands the engine; serves the apps it is given.
struct RecordingInbox : ClusterInbox {
  const AppList* apps = nullptr;
  std::vector<std::string> delivered;          // "target:text"
  std::vector<std::string> webhooks;           // "type:channel[:user]"
  int reasserts = 0;

  void deliver_from_cluster(Delivery::Kind, const App&, const std::string& target, std::string_view text,
                            std::string_view, uint64_t) override {
    delivered.push_back(target + ":" + std::string(text));
  }
  void deliver_from_cluster_to_pattern(const App&, const std::string& channel, const std::string& pattern,
                                       std::string_view text, std::string_view) override {
    delivered.push_back(pattern + ">" + channel + ":" + std::string(text));
  }
  void emit_cluster_webhook(const App&, WebhookEvent e) override {
    webhooks.push_back(std::string(webhook_type_name(e.type)) + ":" + e.channel +
                       (e.user_id.empty() ? "" : ":" + e.user_id));
  }
  const App* app_by_id(std::string_view id) const override {
    if (apps)
      for (const App& a : *apps)
        if (a.id == id) return &a;
    return nullptr;
  }
  void reassert_cluster_state() override { ++reasserts; }
};

}  // namespace raptor::test
