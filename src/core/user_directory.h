// The app-wide view of signed-in users that every worker shares: which workers hold each user's
// signed-in connections (where #server-to-user- events and terminations go), whether a user is
// online (signed in on at least one connection), and which workers hold connections watching
// each user (where watchlist online/offline changes go). Thread-safe.
//
// Changes of online-ness are numbered per app and announced while the lock is held, so, as in
// ChannelDirectory, every worker's mailbox receives them in one order. A watcher is given the
// statuses of its watchlist with their number n and skips announcements numbered n or lower: it
// sees each change once, in its initial statuses or as an event.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/app.h"

namespace raptor {

class UserDirectory {
 public:
  // Called with the lock held when `user_id` came online or went offline: the change's number
  // and the workers (bit w for worker w) holding connections that watch the user.
  using Announce = std::function<void(const std::string& user_id, bool online, uint64_t version, uint64_t workers)>;

  struct SignIn {
    uint64_t version = 0;
    std::vector<std::string> online, offline;  // the watchlist's statuses as of `version`
  };
  // A connection on `worker` signed in as `user_id`, watching `watchlist`.
  SignIn sign_in(const App& app, const std::string& user_id, size_t worker, const std::vector<std::string>& watchlist,
                 const Announce& announce);
  // That connection closed; `worker` keeps `local_connections` signed in as `user_id`.
  void sign_out(const App& app, const std::string& user_id, size_t worker, size_t local_connections,
                const std::vector<std::string>& watchlist, const Announce& announce);

  // Bit w set when worker w has connections signed in as `user_id`.
  uint64_t workers_of(const App& app, const std::string& user_id) const;

 private:
  struct Record {
    size_t connections = 0;             // signed in as the user, on all workers
    uint64_t workers = 0;               // bit w: worker w holds some of them
    std::map<size_t, size_t> watchers;  // worker -> its connections watching the user
  };
  struct AppUsers {
    std::unordered_map<std::string, Record> users;
    uint64_t version = 0;
  };

  static uint64_t watcher_workers(const Record& r);
  static void erase_if_unused(AppUsers& a, const std::string& user_id);

  mutable std::mutex mutex_;
  std::map<const App*, AppUsers> apps_;
};

}  // namespace raptor
