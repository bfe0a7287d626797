// The departures due in Redis (channel_vacated, member_removed held there for the departure delay;
// departure.h), sent through this node, whichever node decided them. The sweep takes them
// atomically (ZRANGEBYSCORE and ZREM in one script), so each is sent once, by whichever node's
// sweeper takes it, even if the node that decided it died. Worker 0 sweeps every few hundred
// milliseconds. On the worker's thread only.
#pragma once
#include <functional>

#include "cluster/redis_script.h"
#include "config/cluster_settings.h"
#include "core/cluster_inbox.h"

namespace raptor::cluster {

class DepartureSweeper {
 public:
  // `connected`: whether the worker is connected to the cluster (RedisBus); it sweeps only then.
  DepartureSweeper(const ClusterSettings& settings, ScriptRunner& scripts, ClusterInbox& inbox,
                   std::function<bool()> connected);

  // Its script, for the bus to load.
  RedisScript& script() { return script_; }
  // Takes the due departures and hands them to the inbox; nothing while a sweep is on its way or
  // the worker is not connected.
  void sweep();

 private:
  static const char* const kScript;

  const ClusterSettings& settings_;
  ScriptRunner& scripts_;
  ClusterInbox& inbox_;
  std::function<bool()> connected_;
  RedisScript script_{kScript};
  bool sweeping_ = false;  // a sweep is on its way
};

}  // namespace raptor::cluster
