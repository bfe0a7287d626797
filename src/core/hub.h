// What the workers of one process share: the channel directory, and mailboxes that carry
// events from the worker where they happen to the workers that hold subscribers.
// Each worker owns its connections and runs its own event loop; a Delivery is copied into the
// target worker's mailbox and handled there, on that worker's thread.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/app.h"
#include "core/channel_directory.h"

namespace raptor {

// An event for the local subscribers of one channel.
struct Delivery {
  const App* app = nullptr;
  std::string channel;
  std::shared_ptr<const std::string> text;  // the frame, shared by every worker's copy
  std::string except_socket_id;             // not to this connection
  uint64_t roster_version = 0;              // presence member events: see ChannelDirectory
};

// A worker's mailbox. post() is called from any thread; the worker handles what was posted on
// its own thread, in order.
class Mailbox {
 public:
  virtual ~Mailbox() = default;
  virtual void post(Delivery d) = 0;
};

class Hub {
 public:
  explicit Hub(size_t workers) : mailboxes_(workers, nullptr) {}

  size_t workers() const { return mailboxes_.size(); }
  // Registers worker `index`'s mailbox; done for every worker before any serves.
  void attach(size_t index, Mailbox* mailbox) { mailboxes_.at(index) = mailbox; }

  ChannelDirectory& directory() { return directory_; }
  const ChannelDirectory& directory() const { return directory_; }

  // Sends `d` to every worker but `from` that holds subscribers of its channel.
  void forward(size_t from, const Delivery& d) const;
  // Sends `d` to the workers whose bit is set in `workers`.
  void post(uint64_t workers, const Delivery& d) const;

 private:
  std::vector<Mailbox*> mailboxes_;
  ChannelDirectory directory_;
};

}  // namespace raptor
