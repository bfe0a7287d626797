// The cluster's webhook stream (docs/cluster.md#webhook-delivery), so that a webhook emitted on a
// node that dies is still delivered. The events WebhookQueue has ready to go are appended to one
// Redis stream, {prefix}webhooks (XADD MAXLEN ~ stream_max_entries), which every node reads in
// one consumer group ("raptor", consumer = node id) into its own receivers' outboxes; an entry is
// acknowledged (XACK) once each receiver's outcome for it is final there. Entries that a dead or
// stalled node left pending are claimed (XAUTOCLAIM, Redis 6.2+) by another node once they have
// been idle for claim_after_ms; a live node renews what it holds (XCLAIM to itself, JUSTID) every
// third of that, so that nobody claims them while its receiver is slow or down. At least once
// across a crash (a batch sent but not acknowledged is sent again by the claimer), exactly once
// otherwise.
//
// Two connections on worker 0's loop, whose thread (the webhook sender's) owns everything here:
// one for commands, one for the blocking XREADGROUP. While either is down or the group is not yet
// made, the queue delivers this node's events itself, and so are events whose XADD got no answer.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "cluster/redis_connection.h"
#include "config/cluster_settings.h"
#include "webhooks/stream_link.h"
#include "webhooks/webhook_settings.h"

struct redisAsyncContext;
struct redisReply;

namespace raptor::cluster {

// {prefix}webhooks, and the consumer group every node reads it in.
std::string webhook_stream_key(std::string_view prefix);
constexpr const char* kWebhookGroup = "raptor";

class WebhookStream : private RedisConnection::Owner {
 public:
  // `poke`: the sender should look at the queue again (entries arrived, or came back to it).
  WebhookStream(const ClusterSettings& cluster, const WebhookSettings& webhooks, EventPort& port, StreamLink& queue,
                std::function<void()> poke);
  ~WebhookStream() override;
  WebhookStream(const WebhookStream&) = delete;
  WebhookStream& operator=(const WebhookStream&) = delete;

  // About once a second: connects, makes the group, renews, claims, notices a stalled Redis.
  void tick(int64_t now_ms);
  // Appends what the queue has for the stream and acknowledges what it settled; the sender
  // calls it before it sends.
  void flush();

 private:
  struct Append;  // an XADD on its way, with its event in case it fails
  struct Ack;     // an XACK on its way, with its ids in case it gets no answer

  void read();
  void create_group();
  void renew();
  void claim(const std::string& cursor);
  void acknowledge(std::vector<std::string> ids);
  // Entries of an XREADGROUP or XAUTOCLAIM reply ([id, [field, value, …]] each) into the queue.
  void take_entries(const redisReply& entries, bool claimed);
  void update_state(const std::string& why);
  void on_up(RedisConnection& c) override;
  void on_down(RedisConnection& c, const std::string& why, bool was_up) override;
  static void on_appended(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_read(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_group(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_claimed(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_acked(redisAsyncContext* ac, void* reply, void* privdata);

  const ClusterSettings& cluster_;
  const WebhookSettings& settings_;
  StreamLink& queue_;
  std::function<void()> poke_;
  const std::string key_;
  bool group_ready_ = false;
  bool group_asked_ = false;
  bool up_ = false;              // events go through the stream
  bool reported_down_ = false;   // the outage is logged
  bool claiming_ = true;         // false once Redis refused XAUTOCLAIM (older than 6.2)
  bool claim_running_ = false;
  bool bad_entry_logged_ = false;
  bool group_error_logged_ = false;
  int64_t now_ms_ = 0;
  int64_t read_sent_ms_ = 0;     // 0: no XREADGROUP on its way
  int64_t next_renewal_ms_ = 0;
  std::vector<std::string> unacked_;  // settled while Redis was away, acknowledged when it is back
  bool destroying_ = false;
  // Last: destroyed first, while the state their final callbacks touch still exists.
  RedisConnection commands_;
  RedisConnection reader_;
};

}  // namespace raptor::cluster
