#include "core/client_address_ledger.h"

#include <vector>

#include "common/client_address.h"

namespace raptor {
namespace {

// Addresses that stand for the operator's own machines and networks (see the header).
const std::vector<AddressRange>& uncounted() {
  static const std::vector<AddressRange> kRanges = [] {
    std::vector<AddressRange> out;
    for (const char* r : {"127.0.0.0/8", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16", "::1/128",
                          "fc00::/7", "fe80::/10"})
      out.push_back(*parse_address_range(r));
    return out;
  }();
  return kRanges;
}

}  // namespace

struct ClientAddressLedger::Entry {
  size_t open = 0;
  RateLimiter connects;
  Shard* shard = nullptr;
};

struct ClientAddressLedger::Shard {
  std::mutex mutex;
  std::unordered_map<std::string, Entry> entries;
  size_t swept_at_size = 0;  // entries after the last sweep of forgotten addresses
};

ClientAddressLedger::ClientAddressLedger() {
  for (auto& s : shards_) s = std::make_unique<Shard>();
}

ClientAddressLedger::~ClientAddressLedger() = default;

std::string ClientAddressLedger::key_of(std::string_view address) {
  auto parsed = parse_address_range(address);
  if (!parsed || address.find('/') != std::string_view::npos || in_ranges(address, uncounted())) return {};
  return std::string(reinterpret_cast<const char*>(parsed->bytes.data()), parsed->v6 ? 8 : 4);
}

ClientAddressLedger::Shard& ClientAddressLedger::shard_of(const std::string& key) const {
  return *shards_[std::hash<std::string>{}(key) % kShards];
}

ClientAddressLedger::Verdict ClientAddressLedger::take(std::string_view address, int64_t now_ms,
                                                       const AddressLimits& limits, Hold& hold) {
  std::string key = key_of(address);
  if (key.empty()) return Verdict::Admitted;
  Shard& shard = shard_of(key);
  std::lock_guard<std::mutex> lock(shard.mutex);
  // Addresses with no connection whose rate forgot them are dropped now and then: amortized,
  // each sweep follows a doubling of the shard since the last one.
  if (shard.entries.size() >= 2 * shard.swept_at_size + 64) {
    for (auto it = shard.entries.begin(); it != shard.entries.end();)
      it = it->second.open == 0 && it->second.connects.idle(now_ms) ? shard.entries.erase(it) : std::next(it);
    shard.swept_at_size = shard.entries.size();
  }
  Entry& entry = shard.entries[key];
  entry.shard = &shard;
  if (limits.connects_per_second && !entry.connects.take(now_ms, limits.connects_per_second, limits.connect_burst()))
    return Verdict::TooManyConnects;
  if (limits.max_connections && entry.open >= limits.max_connections) return Verdict::TooManyConnections;
  ++entry.open;
  hold.release();
  hold.entry_ = &entry;
  return Verdict::Admitted;
}

size_t ClientAddressLedger::open(std::string_view address) const {
  std::string key = key_of(address);
  if (key.empty()) return 0;
  Shard& shard = shard_of(key);
  std::lock_guard<std::mutex> lock(shard.mutex);
  auto it = shard.entries.find(key);
  return it == shard.entries.end() ? 0 : it->second.open;
}

void ClientAddressLedger::Hold::release() {
  if (!entry_) return;
  std::lock_guard<std::mutex> lock(entry_->shard->mutex);
  --entry_->open;  // the entry stays (its rate remembers the connects) until a sweep drops it
  entry_ = nullptr;
}

ClientAddressLedger::Hold& ClientAddressLedger::Hold::operator=(Hold&& other) noexcept {
  if (this != &other) {
    release();
    entry_ = other.entry_;
    other.entry_ = nullptr;
  }
  return *this;
}

}  // namespace raptor
