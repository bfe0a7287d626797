#include "cluster/webhook_stream.h"

#include <hiredis/async.h>

#include <memory>

#include "cluster/redis_reply.h"
#include "common/log.h"
#include "common/text.h"

namespace raptor::cluster {
namespace {

constexpr int64_t kBlockMs = 1000;           // an XREADGROUP waits this long for entries
constexpr int64_t kStallMs = 5000;           // a Redis that answers nothing for this long (beyond BLOCK) is dropped
constexpr const char* kReadCount = "100";    // entries per XREADGROUP / XAUTOCLAIM
constexpr size_t kIdsPerCommand = 500;       // ids per XACK / XCLAIM

bool is_error(const redisReply* r) { return r && r->type == REDIS_REPLY_ERROR; }

int send(redisAsyncContext* ac, redisCallbackFn* done, void* privdata, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const std::string& a : args) {
    argv.push_back(a.data());
    lengths.push_back(a.size());
  }
  return redisAsyncCommandArgv(ac, done, privdata, int(args.size()), argv.data(), lengths.data());
}

// An entry's [field, value, …] array as pairs; nothing when it is not one (a deleted entry).
std::optional<StreamFields> fields_of(const redisReply* r) {
  if (!r || r->type != REDIS_REPLY_ARRAY || r->elements % 2) return std::nullopt;
  StreamFields out;
  for (size_t i = 0; i + 1 < r->elements; i += 2) {
    const redisReply *name = r->element[i], *value = r->element[i + 1];
    if (name->type != REDIS_REPLY_STRING || value->type != REDIS_REPLY_STRING) return std::nullopt;
    out.emplace_back(std::string(text_of(name)), std::string(text_of(value)));
  }
  return out;
}

}  // namespace

std::string webhook_stream_key(std::string_view prefix) { return std::string(prefix) + "webhooks"; }

struct WebhookStream::Append {
  WebhookStream* stream;
  StreamedWebhook event;
};

struct WebhookStream::Ack {
  WebhookStream* stream;
  std::vector<std::string> command;  // XACK key group id…
};

WebhookStream::WebhookStream(const ClusterSettings& cluster, const WebhookSettings& webhooks, EventPort& port,
                             StreamLink& queue, std::function<void()> poke)
    : cluster_(cluster), settings_(webhooks), queue_(queue), poke_(std::move(poke)),
      key_(webhook_stream_key(cluster.prefix)), commands_(*cluster.redis, port, *this),
      reader_(*cluster.redis, port, *this) {
  queue_.use_stream();
}

WebhookStream::~WebhookStream() {
  destroying_ = true;
  queue_.set_stream_up(false);
}

void WebhookStream::tick(int64_t now_ms) {
  now_ms_ = now_ms;
  commands_.tick(now_ms);
  reader_.tick(now_ms);
  if (read_sent_ms_ && now_ms - read_sent_ms_ >= kBlockMs + kStallMs)
    reader_.drop("no answer to XREADGROUP for " + std::to_string((kBlockMs + kStallMs) / 1000) + " s");
  if (!commands_.check_alive(now_ms, kStallMs, reader_)) return;
  if (!group_ready_) {
    create_group();
    return;
  }
  if (now_ms >= next_renewal_ms_) {
    next_renewal_ms_ = now_ms + settings_.claim_after_ms / 3;
    renew();
    if (claiming_ && !claim_running_) claim("0-0");
  }
}

// --- the group ---

void WebhookStream::create_group() {
  if (group_asked_) return;
  group_asked_ = true;
  // From the stream's start: entries added before the group existed (Redis restarted, the group
  // deleted) are delivered too; those older than the retry period are dropped as expired
  // (WebhookQueue::deliver_streamed).
  send(commands_.context(), on_group, this, {"XGROUP", "CREATE", key_, kWebhookGroup, "0", "MKSTREAM"});
}

void WebhookStream::on_group(redisAsyncContext*, void* r, void* privdata) {
  auto* self = static_cast<WebhookStream*>(privdata);
  auto* reply = static_cast<redisReply*>(r);
  self->group_asked_ = false;
  if (!reply || self->destroying_) return;
  if (is_error(reply) && !starts_with(text_of(reply), "BUSYGROUP")) {  // BUSYGROUP: made already
    if (!self->group_error_logged_)
      log::error("webhooks: cannot make the consumer group of the Redis stream %s (%s); retrying each second, and "
                 "meanwhile this node delivers its own webhooks",
                 self->key_.c_str(), reply->str);
    self->group_error_logged_ = true;
    return;
  }
  self->group_error_logged_ = false;
  self->group_ready_ = true;
  self->next_renewal_ms_ = 0;  // claim now what a node that died before this one started left
  self->update_state({});
  self->read();
}

// --- appending and acknowledging ---

void WebhookStream::flush() {
  std::vector<StreamedWebhook> events = queue_.take_for_stream();
  redisAsyncContext* ac = up_ ? commands_.context() : nullptr;
  if (!events.empty() && !ac) {
    queue_.deliver_here(std::move(events));
  } else {
    const std::string maxlen = std::to_string(settings_.stream_max_entries);
    for (StreamedWebhook& e : events) {
      e.origin = cluster_.node_id;
      std::vector<std::string> args = {"XADD", key_, "MAXLEN", "~", maxlen, "*"};
      for (auto& [name, value] : encode_stream_entry(e)) {
        args.push_back(std::move(name));
        args.push_back(std::move(value));
      }
      auto* append = new Append{this, std::move(e)};
      if (send(ac, on_appended, append, args) != REDIS_OK) {
        queue_.deliver_here({std::move(append->event)});
        delete append;
      }
    }
  }
  std::vector<std::string> settled = queue_.take_settled();
  unacked_.insert(unacked_.end(), settled.begin(), settled.end());
  if (!unacked_.empty() && commands_.up()) {
    std::vector<std::string> ids;
    ids.swap(unacked_);
    acknowledge(std::move(ids));
  }
}

void WebhookStream::on_appended(redisAsyncContext*, void* r, void* privdata) {
  std::unique_ptr<Append> append(static_cast<Append*>(privdata));
  WebhookStream& self = *append->stream;
  auto* reply = static_cast<redisReply*>(r);
  if (reply && reply->type == REDIS_REPLY_STRING) {
    self.queue_.count_appended(1);
    return;
  }
  // No answer (Redis went away: it may or may not have the entry) or refused: delivered here, so
  // that nothing is lost; a duplicate is possible when Redis had appended it and another node reads it.
  if (is_error(reply)) log::error("webhooks: Redis refused XADD to %s: %s", self.key_.c_str(), reply->str);
  self.queue_.deliver_here({std::move(append->event)});
  if (!self.destroying_) self.poke_();
}

void WebhookStream::acknowledge(std::vector<std::string> ids) {
  for (size_t from = 0; from < ids.size(); from += kIdsPerCommand) {
    auto* ack = new Ack{this, {"XACK", key_, kWebhookGroup}};
    size_t to = std::min(ids.size(), from + kIdsPerCommand);
    ack->command.insert(ack->command.end(), ids.begin() + std::ptrdiff_t(from), ids.begin() + std::ptrdiff_t(to));
    if (send(commands_.context(), on_acked, ack, ack->command) != REDIS_OK) {
      unacked_.insert(unacked_.end(), ack->command.begin() + 3, ack->command.end());
      delete ack;
    }
  }
}

void WebhookStream::on_acked(redisAsyncContext*, void* r, void* privdata) {
  std::unique_ptr<Ack> ack(static_cast<Ack*>(privdata));
  WebhookStream& self = *ack->stream;
  auto* reply = static_cast<redisReply*>(r);
  if (self.destroying_) return;  // pending in Redis still: another node claims them
  if (!reply) {  // no answer: acknowledged again once Redis is back
    self.unacked_.insert(self.unacked_.end(), ack->command.begin() + 3, ack->command.end());
    return;
  }
  if (reply->type == REDIS_REPLY_INTEGER)
    self.queue_.count_acked(size_t(reply->integer));
  else if (is_error(reply) && !starts_with(text_of(reply), "NOGROUP"))  // NOGROUP: Redis came back empty
    log::error("webhooks: Redis refused XACK on %s: %s", self.key_.c_str(), reply->str);
}

// --- reading, renewing, claiming ---

void WebhookStream::read() {
  redisAsyncContext* ac = reader_.context();
  if (!ac || !group_ready_ || read_sent_ms_) return;
  read_sent_ms_ = now_ms_ ? now_ms_ : 1;
  send(ac, on_read, this,
       {"XREADGROUP", "GROUP", kWebhookGroup, cluster_.node_id, "COUNT", kReadCount, "BLOCK", std::to_string(kBlockMs),
        "STREAMS", key_, ">"});
}

// [[key, [entry, …]]], or nil when BLOCK ran out.
void WebhookStream::on_read(redisAsyncContext*, void* r, void* privdata) {
  auto* self = static_cast<WebhookStream*>(privdata);
  auto* reply = static_cast<redisReply*>(r);
  self->read_sent_ms_ = 0;
  if (!reply || self->destroying_) return;  // the connection went: on_down follows
  if (is_error(reply)) {
    if (!starts_with(text_of(reply), "NOGROUP"))
      log::error("webhooks: Redis refused XREADGROUP on %s: %s", self->key_.c_str(), reply->str);
    self->group_ready_ = false;  // Redis restarted empty, or the group was deleted: made again
    self->update_state("the stream's consumer group is gone");
    return;
  }
  if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 1 && reply->element[0]->type == REDIS_REPLY_ARRAY &&
      reply->element[0]->elements == 2)
    self->take_entries(*reply->element[0]->element[1], false);
  self->read();
}

void WebhookStream::take_entries(const redisReply& entries, bool claimed) {
  if (entries.type != REDIS_REPLY_ARRAY) return;
  for (size_t i = 0; i < entries.elements; ++i) {
    const redisReply* e = entries.element[i];
    if (e->type != REDIS_REPLY_ARRAY || e->elements != 2 || e->element[0]->type != REDIS_REPLY_STRING) continue;
    std::string id(text_of(e->element[0]));
    auto fields = fields_of(e->element[1]);
    std::string why = "deleted from the stream (trimmed by MAXLEN) before it was delivered";
    std::optional<StreamedWebhook> w = fields ? decode_stream_entry(*fields, why) : std::nullopt;
    if (w) {
      queue_.deliver_streamed(id, *w, claimed);
      continue;
    }
    if (!bad_entry_logged_)
      log::error("webhooks: entry %s of the Redis stream %s is no webhook event (%s); dropped. Further ones are "
                 "counted in /health only",
                 id.c_str(), key_.c_str(), why.c_str());
    bad_entry_logged_ = true;
    queue_.discard_streamed(id);
  }
  if (!destroying_) poke_();
}

// What this node holds is renewed (its idle time reset), so that no other node claims it.
void WebhookStream::renew() {
  std::vector<std::string> held = queue_.held_entries();
  for (size_t from = 0; from < held.size(); from += kIdsPerCommand) {
    std::vector<std::string> args = {"XCLAIM", key_, kWebhookGroup, cluster_.node_id, "0"};
    size_t to = std::min(held.size(), from + kIdsPerCommand);
    args.insert(args.end(), held.begin() + std::ptrdiff_t(from), held.begin() + std::ptrdiff_t(to));
    args.push_back("JUSTID");
    send(commands_.context(), nullptr, nullptr, args);
  }
}

void WebhookStream::claim(const std::string& cursor) {
  redisAsyncContext* ac = commands_.context();
  if (!ac) return;
  claim_running_ = true;
  send(ac, on_claimed, this,
       {"XAUTOCLAIM", key_, kWebhookGroup, cluster_.node_id, std::to_string(settings_.claim_after_ms), cursor, "COUNT",
        kReadCount});
}

// [next cursor, [entry, …]] (Redis 7 adds the ids it found deleted, which it forgets by itself).
void WebhookStream::on_claimed(redisAsyncContext*, void* r, void* privdata) {
  auto* self = static_cast<WebhookStream*>(privdata);
  auto* reply = static_cast<redisReply*>(r);
  self->claim_running_ = false;
  if (!reply || self->destroying_) return;
  if (is_error(reply)) {
    if (starts_with(text_of(reply), "NOGROUP")) return;  // the reader notices and makes it again
    self->claiming_ = false;
    log::error("webhooks: Redis refused XAUTOCLAIM (%s): entries of a node that dies are not delivered by another "
               "node; this needs Redis 6.2 or later",
               reply->str);
    return;
  }
  if (reply->type != REDIS_REPLY_ARRAY || reply->elements < 2 || reply->element[0]->type != REDIS_REPLY_STRING) return;
  self->take_entries(*reply->element[1], true);
  if (reply->elements >= 3 && reply->element[2]->type == REDIS_REPLY_ARRAY && reply->element[2]->elements) {
    size_t n = reply->element[2]->elements;
    log::error("webhooks: %zu pending entries of the Redis stream %s were deleted (trimmed by MAXLEN) before any node "
               "delivered them; raise --webhook-stream-max-entries",
               n, self->key_.c_str());
    for (size_t i = 0; i < n; ++i) self->queue_.discard_streamed(std::string(text_of(reply->element[2]->element[i])));
  }
  std::string next(text_of(reply->element[0]));
  if (next != "0-0") self->claim(next);
}

// --- connections ---

void WebhookStream::on_up(RedisConnection& c) {
  if (&c == &reader_) read();
  update_state({});
}

void WebhookStream::on_down(RedisConnection& c, const std::string& why, bool) {
  if (&c == &reader_) {
    read_sent_ms_ = 0;
  } else {
    group_ready_ = false;  // asked again: Redis may come back empty
    group_asked_ = false;
    claim_running_ = false;
  }
  update_state(why);
}

void WebhookStream::update_state(const std::string& why) {
  bool up = commands_.up() && reader_.up() && group_ready_;
  if (up == up_) {
    if (!up && !why.empty() && !reported_down_) {
      reported_down_ = true;
      log::warn("webhooks: cannot reach the Redis stream %s (%s); this node delivers its own webhooks until it can",
                key_.c_str(), why.c_str());
    }
    return;
  }
  up_ = up;
  queue_.set_stream_up(up);
  if (up) {
    reported_down_ = false;
    log::info("webhooks: delivering through the Redis stream %s (group %s, consumer %s)", key_.c_str(), kWebhookGroup,
              cluster_.node_id.c_str());
  } else {
    reported_down_ = true;
    log::warn("webhooks: lost the Redis stream %s (%s); this node delivers its own webhooks until it is back",
              key_.c_str(), why.empty() ? "unknown reason" : why.c_str());
  }
}

}  // namespace raptor::cluster
