#include "core/send_queue_totals.h"

#include <algorithm>
#include <array>
#include <atomic>

namespace raptor::send_queues {
namespace {

constexpr size_t kMaxWorkers = 64;  // as many as --workers allows

struct alignas(64) Slot {  // a cache line each: workers do not share one
  std::atomic<int64_t> bytes{0};
  std::atomic<size_t> largest{0};
};

std::array<Slot, kMaxWorkers> slots;
thread_local Slot unattached;
thread_local Slot* here = &unattached;

}  // namespace

void attach(size_t index) { here = &slots.at(index); }

void add(int64_t bytes) { here->bytes.store(here->bytes.load(std::memory_order_relaxed) + bytes, std::memory_order_relaxed); }

int64_t total() {
  int64_t sum = 0;
  for (const Slot& s : slots) sum += s.bytes.load(std::memory_order_relaxed);
  return sum;
}

void set_largest(size_t bytes) { here->largest.store(bytes, std::memory_order_relaxed); }

size_t largest() {
  size_t most = 0;
  for (const Slot& s : slots) most = std::max(most, s.largest.load(std::memory_order_relaxed));
  return most;
}

}  // namespace raptor::send_queues
