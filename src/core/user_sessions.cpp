#include "core/user_sessions.h"

#include <string>

#include "core/signin_check.h"
#include "protocol/errors.h"
#include "protocol/messages.h"

namespace raptor {
namespace {

constexpr int kUnauthorizedClose = static_cast<int>(CloseCode::Unauthorized);

}  // namespace

void UserSessions::signin(Connection& c, const messages::ClientMessage& m) {
  UserData user;
  if (auto refusal = signin_refusal(c, m, user)) {
    sender_.send_error(c, refusal->code, refusal->message);
    return;
  }
  const App& app = c.app();
  std::string_view user_data = *m.user_data;
  if (const Connection::User* current = c.user()) {
    // Signing in again as the same user is acknowledged and changes nothing (as a repeated
    // subscribe); one connection never carries two users.
    if (current->id == user.id)
      sender_.send(c, messages::signin_success(user_data));
    else
      sender_.send_error(c, code(ErrorCode::SigninConflict),
                         "This connection is already signed in as user " + current->id);
    return;
  }
  auto statuses = hub_.users().sign_in(app, user.id, worker_, user.watchlist, watchlist_announcer(app));
  bool first_here = users_of(app).signed_in_as(user.id).empty();
  c.sign_in({user.id, std::move(user.watchlist), statuses.version});
  users_of(app).add(&c);
  if (first_here && cluster_) cluster_->watch_user(app, user.id);
  sender_.send(c, messages::signin_success(user_data));
  if (user.watchlist_truncated)
    sender_.send_error(c, code(ErrorCode::WatchlistLimit),
                       "Watchlist limit exceeded: only the first " + std::to_string(kMaxWatchlistLength) + " user ids are watched");
  if (!statuses.online.empty() || !statuses.offline.empty())
    sender_.send(c, messages::watchlist_events(statuses.online, statuses.offline));
}

void UserSessions::sign_out(Connection& c) {
  const App& app = c.app();
  size_t left = users_of(app).remove(&c);
  if (left == 0 && cluster_) cluster_->unwatch_user(app, c.user()->id);
  hub_.users().sign_out(app, c.user()->id, worker_, left, c.user()->watchlist, watchlist_announcer(app));
}

std::optional<SubscriptionRefusal> UserSessions::subscribe_user_channel(Connection& c, const std::string& channel) {
  // pusher-js subscribes to its own user channel after signing in: acknowledged, so that it
  // counts the channel as subscribed. Events flow by sign-in either way.
  if (c.user() && channel.compare(kServerToUserPrefix.size(), std::string::npos, c.user()->id) == 0) {
    sender_.send(c, messages::subscription_succeeded(channel, "{}"));
    return std::nullopt;
  }
  return SubscriptionAuthorizer::not_that_user();
}

UserDirectory::Announce UserSessions::watchlist_announcer(const App& app) {
  return [this, &app](const std::string& user_id, bool online, uint64_t version, uint64_t workers) {
    const std::vector<std::string> changed{user_id}, none;
    router_.announce(workers, EventRouter::delivery(Delivery::Kind::WatchlistChange, app, user_id,
                                                    online ? messages::watchlist_events(changed, none)
                                                           : messages::watchlist_events(none, changed),
                                                    {}, version));
  };
}

void UserSessions::terminate(const App& app, const std::string& user_id) {
  router_.dispatch(EventRouter::delivery(Delivery::Kind::TerminateUser, app, user_id, {}));
}

void UserSessions::deliver(const Delivery& d) {
  LocalUsers& users = users_of(*d.app);
  if (d.kind == Delivery::Kind::TerminateUser) {
    for (Connection* c : users.signed_in_as(d.target)) {
      sender_.send_error(*c, kUnauthorizedClose, "Connection terminated by the app");
      sender_.close(*c, kUnauthorizedClose, "Connection terminated by the app");
    }
    return;
  }
  bool watchlist = d.kind == Delivery::Kind::WatchlistChange;
  FramePtr frame = Frame::make(*d.text);
  for (Connection* c : watchlist ? users.watching(d.target) : users.signed_in_as(d.target)) {
    if (c->socket_id() == d.except_socket_id) continue;
    if (watchlist && c->user()->watch_version >= d.version) continue;  // in its initial statuses
    sender_.send(*c, frame);
  }
}

}  // namespace raptor
