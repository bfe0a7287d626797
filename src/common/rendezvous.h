// Pauses a set of threads at a known point so that one thread can change what they all read,
// then lets them go. Used by a configuration reload: each worker, handed a task through its
// mailbox, arrives and waits; the main thread waits until all have arrived, changes the shared
// configuration (apps, limits) while none of them runs, releases them, and waits until each has
// finished its own part (swapping its policy on its own thread).
// The wait for arrivals has a deadline: a worker stuck in a long call must not hold the others
// paused. The thread in charge then gives up (release() lets the arrived ones go on as they were)
// and a party that arrives after that is released at once.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>

namespace raptor {

class Rendezvous {
 public:
  explicit Rendezvous(size_t parties) : parties_(parties) {}

  // A paused thread: arrives, and returns once release() has been called.
  void arrive_and_wait() {
    std::unique_lock<std::mutex> lock(mutex_);
    ++arrived_;
    changed_.notify_all();
    changed_.wait(lock, [this] { return released_; });
  }
  // The same thread, once its part after the release is done.
  void finish() {
    std::lock_guard<std::mutex> lock(mutex_);
    ++finished_;
    changed_.notify_all();
  }

  // The thread in charge: waits for every party to arrive (false when some have not within
  // `limit`), ...
  bool wait_arrived(std::chrono::milliseconds limit) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, limit, [this] { return arrived_ == parties_; });
  }
  size_t arrived() {
    std::lock_guard<std::mutex> lock(mutex_);
    return arrived_;
  }
  // ... releases them, ...
  void release() {
    std::lock_guard<std::mutex> lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }
  // ... and waits for each to finish.
  void wait_finished() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return finished_ == parties_; });
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  const size_t parties_;
  size_t arrived_ = 0, finished_ = 0;
  bool released_ = false;
};

}  // namespace raptor
