#include "net/peer_addresses.h"

namespace raptor::net {

std::optional<std::string> PeerAddresses::take(int fd) {
  if (peers_.empty()) return std::nullopt;
  auto it = peers_.find(fd);
  if (it == peers_.end()) return std::nullopt;
  std::string address = std::move(it->second);
  peers_.erase(it);
  return address;
}

}  // namespace raptor::net
