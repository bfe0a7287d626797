// One worker's signed-in connections of one app, by user id, and the connections watching each
// user id. Used on the worker's thread only; the app-wide view is the UserDirectory.
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "core/connection.h"

namespace raptor {

class LocalUsers {
 public:
  // `c` has just signed in (c->user() is set).
  void add(Connection* c);
  // `c`, signed in, is closing; returns how many connections remain signed in as its user here.
  size_t remove(Connection* c);

  const std::vector<Connection*>& signed_in_as(const std::string& user_id) const { return find(signed_in_, user_id); }
  const std::vector<Connection*>& watching(const std::string& user_id) const { return find(watchers_, user_id); }

 private:
  using Index = std::unordered_map<std::string, std::vector<Connection*>>;
  static const std::vector<Connection*>& find(const Index& index, const std::string& key);
  // Removes `c` from `key`'s list; returns the list's new size.
  static size_t erase(Index& index, const std::string& key, Connection* c);

  Index signed_in_, watchers_;
};

}  // namespace raptor
