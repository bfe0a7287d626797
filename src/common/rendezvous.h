// Pauses a set of threads at a known point so that one thread can change what they all read,
// then lets them go. Used by a configuration reload: each worker, handed a task through its
// mailbox, arrives and waits; the main thread waits until all have arrived, changes the shared
// configuration (apps, limits) while none of them runs, releases them, and waits until each has
// finished its own part (swapping its policy on its own thread).
#pragma once
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

  // The thread in charge: waits for every party to arrive, ...
  void wait_arrived() {
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [this] { return arrived_ == parties_; });
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
