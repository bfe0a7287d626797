#include "core/user_directory.h"

namespace raptor {

uint64_t UserDirectory::watcher_workers(const Record& r) {
  uint64_t out = 0;
  for (const auto& [worker, count] : r.watchers) out |= uint64_t(1) << worker;
  return out;
}

void UserDirectory::erase_if_unused(AppUsers& a, const std::string& user_id) {
  auto it = a.users.find(user_id);
  if (it != a.users.end() && it->second.connections == 0 && it->second.watchers.empty()) a.users.erase(it);
}

UserDirectory::SignIn UserDirectory::sign_in(const App& app, const std::string& user_id, size_t worker,
                                             const std::vector<std::string>& watchlist, const Announce& announce) {
  std::lock_guard<std::mutex> lock(mutex_);
  AppUsers& a = apps_[&app];
  Record& r = a.users[user_id];
  r.workers |= uint64_t(1) << worker;
  if (++r.connections == 1) announce(user_id, true, ++a.version, watcher_workers(r));
  SignIn s;
  s.version = a.version;
  for (const auto& watched : watchlist) {
    Record& w = a.users[watched];
    ++w.watchers[worker];
    (w.connections > 0 ? s.online : s.offline).push_back(watched);
  }
  return s;
}

void UserDirectory::sign_out(const App& app, const std::string& user_id, size_t worker, size_t local_connections,
                             const std::vector<std::string>& watchlist, const Announce& announce) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto app_it = apps_.find(&app);
  if (app_it == apps_.end()) return;
  AppUsers& a = app_it->second;
  for (const auto& watched : watchlist) {
    auto it = a.users.find(watched);
    if (it == a.users.end()) continue;
    auto w = it->second.watchers.find(worker);
    if (w != it->second.watchers.end() && --w->second == 0) it->second.watchers.erase(w);
    erase_if_unused(a, watched);
  }
  auto it = a.users.find(user_id);
  if (it == a.users.end()) return;
  Record& r = it->second;
  if (local_connections == 0) r.workers &= ~(uint64_t(1) << worker);
  if (r.connections > 0 && --r.connections == 0) announce(user_id, false, ++a.version, watcher_workers(r));
  erase_if_unused(a, user_id);
}

uint64_t UserDirectory::workers_of(const App& app, const std::string& user_id) const {
  std::lock_guard<std::mutex> lock(mutex_);
  auto app_it = apps_.find(&app);
  if (app_it == apps_.end()) return 0;
  auto it = app_it->second.users.find(user_id);
  return it == app_it->second.users.end() ? 0 : it->second.workers;
}

}  // namespace raptor
