#include "core/local_users.h"

#include <algorithm>

namespace raptor {

void LocalUsers::add(Connection* c) {
  signed_in_[c->user()->id].push_back(c);
  for (const auto& watched : c->user()->watchlist) watchers_[watched].push_back(c);
}

size_t LocalUsers::remove(Connection* c) {
  for (const auto& watched : c->user()->watchlist) erase(watchers_, watched, c);
  return erase(signed_in_, c->user()->id, c);
}

const std::vector<Connection*>& LocalUsers::find(const Index& index, const std::string& key) {
  static const std::vector<Connection*> kNone;
  auto it = index.find(key);
  return it == index.end() ? kNone : it->second;
}

size_t LocalUsers::erase(Index& index, const std::string& key, Connection* c) {
  auto it = index.find(key);
  if (it == index.end()) return 0;
  auto& list = it->second;
  list.erase(std::remove(list.begin(), list.end(), c), list.end());
  size_t left = list.size();
  if (left == 0) index.erase(it);
  return left;
}

}  // namespace raptor
