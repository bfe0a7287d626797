// The cluster's settings (docs/cluster.md): the Redis that raptor nodes share, the prefix of
// every key and channel they use in it, and this node's id. Plain C++; parsed here, used by
// cluster/.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace raptor {

// Where the Redis is: redis[s]://[[user]:password@]host[:port][/db][?ca=FILE&verify=none].
struct RedisAddress {
  std::string host;  // an IP address or a host name (looked up at each connection attempt)
  int port = 6379;
  int db = 0;
  std::string user;      // Redis 6 ACL user; empty: AUTH with the password alone
  std::string password;  // empty: no AUTH
  // rediss://: TLS to Redis (docs/cluster.md, "TLS"). The certificate is checked against
  // `ca_file` (none: the system's CA certificates) and the host name, unless `verify` is off.
  bool tls = false;
  std::string ca_file;
  bool verify = true;

  bool operator==(const RedisAddress& o) const {
    return host == o.host && port == o.port && db == o.db && user == o.user && password == o.password &&
           tls == o.tls && ca_file == o.ca_file && verify == o.verify;
  }
  // host:port as logs show it, with [] around an IPv6 address.
  std::string where() const;
};

struct ClusterSettings {
  std::optional<RedisAddress> redis;  // none: one embedded node, no cluster
  std::string prefix = "raptor:";     // of every Redis key and channel, so deployments can share one Redis
  std::string node_id;                // generated at start-up when not given
  // How long this node's lease in Redis lasts without renewal (it renews about once a second);
  // a node whose lease has lapsed for this long is taken for dead and its state is cleaned up.
  int node_timeout_s = kDefaultNodeTimeoutS;
  static constexpr int kDefaultNodeTimeoutS = 5;  // clean-up of a dead node within ~7 s
  static constexpr int kMinNodeTimeoutS = 2;      // leaves a renewal or two of slack
  static constexpr int kMaxNodeTimeoutS = 3600;
  // How long a node that cannot reach Redis at start-up holds its traffic before it serves as a
  // node alone (docs/cluster.md#readiness).
  int startup_wait_s = kDefaultStartupWaitS;
  static constexpr int kDefaultStartupWaitS = 10;
  static constexpr int kMaxStartupWaitS = 3600;
};

// Parses a redis:// or rediss:// URL into `out`; the reason it is refused, else nothing. The reason never
// repeats the URL (it may hold a password).
std::optional<std::string> parse_redis_url(std::string_view url, RedisAddress& out);
// Why `id` is not a node id (1 to 64 of A-Z a-z 0-9 . _ -), else nothing.
std::optional<std::string> node_id_error(std::string_view id);
// Why `prefix` is not a key prefix (1 to 64 printable ASCII characters, no spaces), else nothing.
std::optional<std::string> redis_prefix_error(std::string_view prefix);
// Parses a node timeout (a whole number of seconds from kMinNodeTimeoutS to kMaxNodeTimeoutS)
// into `out`; the reason it is refused, else nothing.
std::optional<std::string> parse_node_timeout(std::string_view seconds, int& out);
// Parses a start-up wait (a whole number of seconds from 0 to kMaxStartupWaitS) into `out`; the
// reason it is refused, else nothing.
std::optional<std::string> parse_startup_wait(std::string_view seconds, int& out);
// A fresh node id: the host name and a random suffix (so two nodes of one host differ).
std::string generate_node_id();

}  // namespace raptor
