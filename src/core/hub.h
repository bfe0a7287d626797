// What the workers of one process share: the channel and user directories, the cache channels'
// last events, the webhook sink, the count of connections per client address, and mailboxes that carry events from the worker where they happen to the workers
// that hold subscribers (or the user's connections).
// Each worker owns its connections and runs its own event loop; a Delivery is copied into the
// target worker's mailbox and handled there, on that worker's thread.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/app.h"
#include "core/channel_directory.h"
#include "core/client_address_ledger.h"
#include "core/event_cache.h"
#include "core/node_readiness.h"
#include "core/user_directory.h"
#include "core/webhook_sink.h"

namespace raptor {

struct ClusterStatus;

// Work for one worker's local connections of one app.
struct Delivery {
  enum class Kind {
    ChannelEvent,     // `text` to the subscribers of the channel `target`
    UserEvent,        // `text` to the connections signed in as the user `target`
    WatchlistChange,  // `text` to the connections watching the user `target`
    TerminateUser,    // close the connections signed in as the user `target`
  };
  Kind kind = Kind::ChannelEvent;
  const App* app = nullptr;
  std::string target;                       // a channel name or a user id, by kind
  std::shared_ptr<const std::string> text;  // the frame, shared by every worker's copy
  std::string except_socket_id;             // not to this connection
  // Presence member events (see ChannelDirectory) and watchlist changes (see UserDirectory):
  // the change's number, which recipients that already know it skip.
  uint64_t version = 0;
  // A published event: the wildcard patterns matching the channel that have subscribers, from
  // ChannelDirectory::route(), shared by every worker's copy; null when none.
  std::shared_ptr<const std::vector<std::string>> patterns;
};

// A worker's mailbox. post() is called from any thread; the worker handles what was posted on
// its own thread, in order.
class Mailbox {
 public:
  virtual ~Mailbox() = default;
  virtual void post(Delivery d) = 0;
};

class Hub {
 public:
  explicit Hub(size_t workers) : mailboxes_(workers, nullptr) {}

  size_t workers() const { return mailboxes_.size(); }
  // Registers worker `index`'s mailbox; done for every worker before any serves.
  void attach(size_t index, Mailbox* mailbox) { mailboxes_.at(index) = mailbox; }

  ChannelDirectory& directory() { return directory_; }
  const ChannelDirectory& directory() const { return directory_; }
  UserDirectory& users() { return users_; }
  EventCache& cache() { return cache_; }
  const EventCache& cache() const { return cache_; }
  // Where webhook events go (null: nowhere). Set before workers run.
  void set_webhooks(WebhookSink* sink) {
    webhooks_ = sink;
    directory_.set_webhooks(sink);
  }
  WebhookSink* webhooks() const { return webhooks_; }
  // The cluster's state, when this node is one of a cluster (null: alone). Set before workers run.
  void set_cluster_status(const ClusterStatus* status) { cluster_status_ = status; }
  const ClusterStatus* cluster_status() const { return cluster_status_; }
  // Whether the node takes traffic yet (core/node_readiness.h).
  NodeReadiness& readiness() { return readiness_; }
  const NodeReadiness& readiness() const { return readiness_; }
  // Connections and connects per client address (core/client_address_ledger.h).
  ClientAddressLedger& addresses() { return addresses_; }

  // Sends a user delivery (an event to a user, terminating a user) to every worker but `from`
  // that holds connections signed in as its user. Channel events go where
  // ChannelDirectory::route() says instead.
  void forward_to_user(size_t from, const Delivery& d) const;
  // Sends `d` to the workers whose bit is set in `workers`.
  void post(uint64_t workers, const Delivery& d) const;

 private:
  std::vector<Mailbox*> mailboxes_;
  ChannelDirectory directory_;
  UserDirectory users_;
  EventCache cache_;
  WebhookSink* webhooks_ = nullptr;
  const ClusterStatus* cluster_status_ = nullptr;
  NodeReadiness readiness_;
  ClientAddressLedger addresses_;
};

}  // namespace raptor
