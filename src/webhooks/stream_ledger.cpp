#include "webhooks/stream_ledger.h"

#include <algorithm>

#include "common/log.h"

namespace raptor {

std::vector<StreamedWebhook> StreamLedger::take_for_stream() {
  std::vector<StreamedWebhook> out;
  out.swap(for_stream_);
  return out;
}

void StreamLedger::settle(const std::string& entry) {
  if (entry.empty()) return;
  auto it = held_.find(entry);
  if (it == held_.end() || --it->second > 0) return;
  settled_.push_back(entry);
  held_.erase(it);
}

std::vector<std::string> StreamLedger::take_settled() {
  std::vector<std::string> out;
  out.swap(settled_);
  return out;
}

std::vector<std::string> StreamLedger::held_entries() const {
  std::vector<std::string> out;
  out.reserve(held_.size());
  for (const auto& [id, owed] : held_) out.push_back(id);
  return out;
}

void StreamLedger::log_unwanted(const StreamedWebhook& w) {
  if (std::find(unknown_apps_.begin(), unknown_apps_.end(), w.app_id) != unknown_apps_.end()) return;
  unknown_apps_.push_back(w.app_id);
  log::warn("webhooks: the Redis stream holds %s events of app %s (from node %s) that no receiver here wants; "
            "dropped (is every node configured alike?). Logged once per app",
            std::string(webhook_type_name(w.type)).c_str(), w.app_id.c_str(), w.origin.c_str());
}

void StreamLedger::log_expired(const std::string& id, int64_t age_ms) {
  if (expired_++ == 0)
    log::error("webhooks: entry %s of the Redis stream was emitted %lld s ago, longer than the retry period; "
               "dropped. Logged once",
               id.c_str(), static_cast<long long>(age_ms / 1000));
}

}  // namespace raptor
