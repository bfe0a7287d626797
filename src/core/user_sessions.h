// The worker's signed-in users: pusher:signin, signing out, #server-to-user- events, watchlists,
// terminating a user's connections. (Anonymous connections closed after a time limit:
// ConnectionSweeps.) A user's events reach the connections signed in as that user, whether or
// not they subscribed to #server-to-user-{id}: the sign-in is the authorization, and the channel
// name alone authorizes nobody. The node's view of users (which worker holds whom, who watches
// whom) is the Hub's UserDirectory; this part keeps the worker's own connections by user
// (LocalUsers) and tells the cluster which users it holds. Single-threaded: the worker's loop.
#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/app.h"
#include "core/cluster_bus.h"
#include "core/connection.h"
#include "core/event_router.h"
#include "core/hub.h"
#include "core/local_users.h"
#include "core/sender.h"
#include "core/subscription_authorizer.h"
#include "core/user_directory.h"

namespace raptor {

namespace messages {
struct ClientMessage;
}

class UserSessions {
 public:
  // `worker` is this worker's index in `hub`; every argument outlives the part.
  UserSessions(Hub& hub, size_t worker, Sender& sender, EventRouter& router)
      : hub_(hub), worker_(worker), sender_(sender), router_(router) {}

  // The cluster (other nodes), or null when alone.
  void set_cluster(ClusterBus* cluster) { cluster_ = cluster; }

  // A pusher:signin: signs `c` in, or tells it why not.
  void signin(Connection& c, const messages::ClientMessage& m);
  // `c`, signed in, is closing.
  void sign_out(Connection& c);
  // A subscribe to `#server-to-user-{id}`: acknowledged for the user signed in as {id}, else the
  // refusal to send.
  std::optional<SubscriptionRefusal> subscribe_user_channel(Connection& c, const std::string& channel);
  // Closes every connection signed in as `user_id`, on every worker, with 4009.
  void terminate(const App& app, const std::string& user_id);
  // Handles a user kind of Delivery for this worker's connections.
  void deliver(const Delivery& d);

 private:
  LocalUsers& users_of(const App& app) { return users_[&app]; }
  UserDirectory::Announce watchlist_announcer(const App& app);

  Hub& hub_;
  size_t worker_;
  Sender& sender_;
  EventRouter& router_;
  ClusterBus* cluster_ = nullptr;
  std::unordered_map<const App*, LocalUsers> users_;
};

}  // namespace raptor
