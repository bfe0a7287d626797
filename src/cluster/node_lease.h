// This node's lease in Redis, and the clean-up of nodes whose lease lapsed (docs/cluster.md#node-leases).
// Run by worker 0's bus on its command connection (its ScriptRunner), about once a second; on the
// worker's thread.
//
// The lease: {prefix}nodes maps each node to when its lease expires (Redis TIME + the node
// timeout), renewed at each tick. A node that finds its lease missing (Redis came back empty, or
// another node took it for dead and cleaned it up) makes a new one, identified by when it was
// made ({prefix}node:{node}:lease), and bumps ClusterStatus::lease_renewals so that every worker
// re-asserts its state (Engine::reassert_cluster_state). Presence scripts count a change only
// while the node holds a lease, and say under which one, so that a re-assert is idempotent.
//
// Clean-up: a node whose lease expired is claimed by exactly one other node (one script removes
// it from {prefix}nodes), which then walks {prefix}node:{dead}:held in batches of kBatch entries
// per script call (so that Redis serves others between them), undoing each contribution as the
// dead node itself would have. The claim ({prefix}cleaning) lasts one node timeout and is
// renewed by each batch: if the cleaner dies too, another node takes the work over.
//
// A node starting cleans up first what an earlier run under its id may have left (it was
// killed and restarted before its lease expired): none of those connections exist any more.
//
// Judging others needs a judge that was itself renewing: a node judges no one until its own
// lease has been continuously valid for one node timeout. After Redis itself stalled, every
// lease is found expired at once; the nodes first renew theirs, and only a node that then fails
// to renew for a whole timeout is taken for dead.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "cluster/redis_script.h"
#include "config/cluster_settings.h"
#include "core/cluster_bus.h"

struct redisReply;

namespace raptor::cluster {

class NodeLease {
 public:
  // Entries (keys, members, scan steps) undone per clean-up script call: 20-120 µs of Redis time
  // each on a loaded 2-vCPU machine (a PUBLISH and a departure per member), so that a call holds
  // Redis for a few ms (docs/cluster.md#node-leases).
  static constexpr int kBatch = 100;

  // `departure_delay_ms`: when the dead node's departure webhooks fall due, as the node's own would.
  NodeLease(const ClusterSettings& settings, ClusterStatus& status, ScriptRunner& redis, int64_t departure_delay_ms);

  // Its scripts, for the bus to SCRIPT LOAD on each new command connection.
  void add_scripts(std::vector<RedisScript*>& scripts) {
    scripts.push_back(&renew_script_);
    scripts.push_back(&clean_script_);
    scripts.push_back(&release_script_);
  }
  // Renews the lease and starts the clean-up of nodes found dead; the command connection is up.
  void tick();
  // The command connection dropped: its commands were answered with null; judge no one until
  // the lease is seen continuously valid again.
  void connection_lost();
  // The end of a drain: gives the lease back (the node leaves {prefix}nodes and its lease key
  // goes) when Redis holds nothing of the node any more, and renews it no more; else leaves it to
  // lapse, so that another node cleans up what is left. `done` is called once Redis answered (or
  // the connection dropped).
  void release(std::function<void()> done);

 private:
  struct Cleaning;  // a dead node's clean-up on its way
  void renewed(const redisReply& reply);
  void clean(std::shared_ptr<Cleaning> cleaning);
  void cleaned(std::shared_ptr<Cleaning> cleaning, const redisReply* reply);

  const ClusterSettings& settings_;
  ClusterStatus& status_;
  ScriptRunner& redis_;
  int64_t departure_delay_ms_;
  RedisScript renew_script_;
  RedisScript clean_script_;
  RedisScript release_script_;
  bool renewing_ = false;
  bool released_ = false;  // the drain gave the lease back: no renewal, no judging
  bool earlier_run_cleaned_ = false;  // what an earlier run under this node id left is undone
  int64_t valid_since_ms_ = -1;  // Redis time since when the lease has not lapsed; -1: not known
  std::set<std::string> cleaning_;  // dead nodes whose clean-up is on its way from here
};

}  // namespace raptor::cluster
