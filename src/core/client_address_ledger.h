// Connections open and connects made per client address, over every worker of the process:
// the per-address limits of docs/security.md#limits. A connect takes a token of the address's
// rate and a place among its open connections in one step under its shard's lock, so two workers
// admitting at the same instant cannot both take the last place; the place is given back when the
// connection is deleted (its Hold is destroyed). The lock is taken twice per connection (connect
// and close), never per frame.
//
// Which address: the client address of common/client_address.h (the TCP peer, or what a trusted
// proxy names). An IPv6 client is counted by its /64, the block one subscriber gets (and can
// change addresses within at will). Loopback, private (RFC 1918, IPv6 ULA) and link-local
// addresses are not counted: they are the operator's own proxies and networks, where one address
// may stand for every client behind it; list such a proxy with --trusted-proxy to count the
// clients it names instead. Any thread.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/rate_limiter.h"

namespace raptor {

struct AddressLimits {
  size_t max_connections = 1000;      // open at once per address; 0: no limit
  uint32_t connects_per_second = 20;  // on average, up to five seconds' worth at once; 0: no limit
  uint32_t connect_burst() const { return connects_per_second * 5; }
};

class ClientAddressLedger {
 public:
  struct Entry;
  // A connection's place among its address's open connections; given back when destroyed.
  // Empty for an address that is not counted. Move-only.
  class Hold {
   public:
    Hold() = default;
    Hold(Hold&& other) noexcept : entry_(other.entry_) { other.entry_ = nullptr; }
    Hold& operator=(Hold&& other) noexcept;
    Hold(const Hold&) = delete;
    Hold& operator=(const Hold&) = delete;
    ~Hold() { release(); }

   private:
    friend class ClientAddressLedger;
    void release();
    Entry* entry_ = nullptr;
  };

  enum class Verdict { Admitted, TooManyConnections, TooManyConnects };

  ClientAddressLedger();
  ~ClientAddressLedger();  // after every Hold of it

  // A connect from `address` at `now_ms` (monotonic): Admitted, with `hold` the connection's
  // place, when the address has a token of its rate and a free place; else why not (nothing taken).
  Verdict take(std::string_view address, int64_t now_ms, const AddressLimits& limits, Hold& hold);
  // Connections `address` holds now (what take() counts them under).
  size_t open(std::string_view address) const;

  // The key an address is counted under: 4 bytes of IPv4, 8 of IPv6 (its /64); empty when the
  // address is not counted (loopback, private, link-local, not an address).
  static std::string key_of(std::string_view address);

 private:
  struct Shard;
  static constexpr size_t kShards = 16;
  Shard& shard_of(const std::string& key) const;
  std::array<std::unique_ptr<Shard>, kShards> shards_;
};

}  // namespace raptor
