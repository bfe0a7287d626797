// The codes Raptor puts in pusher:error frames and WebSocket close frames.
// Close codes follow the Pusher table, which pusher-js acts on: 4000-4099 never reconnect,
// 4100-4199 reconnect after back-off, 4200-4299 reconnect at once. Non-fatal errors use the
// 4300 range ("any other error"), so a client that mistakes one for a close code gives up
// rather than hammering the server. docs/protocol.md lists them for users.
#pragma once

namespace raptor {

enum class CloseCode : int {
  MessageTooBig = 1009,
  UnknownApp = 4001,
  // Pusher's "application is over connection quota": the app's max_connections on this node.
  OverQuota = 4004,
  PathNotFound = 4005,
  InvalidVersion = 4006,
  UnsupportedVersion = 4007,
  NoVersion = 4008,
  // Pusher's "connection is unauthorized": not signed in within the app's time limit, or the
  // app terminated the user's connections. pusher-js does not reconnect on its own.
  Unauthorized = 4009,
  OverCapacity = 4100,  // the client could not keep up with its send queue
  // Per client address (docs/security.md#limits): its connections open at once, its connects a
  // second. In the back-off range: pusher-js tries again a second later.
  AddressConnections = 4101,
  AddressConnectRate = 4102,
  // Pusher's "generic reconnect immediately": the server is draining (SIGTERM); pusher-js
  // reconnects at once, through the load balancer to another node.
  GoingAway = 4200,
  PongTimeout = 4201,
};

enum class ErrorCode : int {
  InvalidMessage = 4300,
  RateLimited = 4301,     // Pusher's code for client events over 10/s; also subscribes over the rate
  WatchlistLimit = 4302,  // Pusher's code: more than 100 watchlist ids, the first 100 count
  InvalidChannel = 4303,
  Unauthorized = 4304,
  // A limit reached: presence channel full, member data too large, too many subscriptions or
  // wildcard patterns on one connection. Sent with a subscription_error of type LimitReached.
  LimitReached = 4305,
  ClientEventRefused = 4306,
  PayloadTooLarge = 4307,
  InvalidUserData = 4308,  // pusher:signin user_data malformed or over a limit
  SigninConflict = 4309,   // pusher:signin as a second user on one connection
  NotPrivileged = 4310,    // a client event from a member who is not privileged on the channel
};

// The number a frame carries.
constexpr int code(ErrorCode c) { return static_cast<int>(c); }
constexpr int code(CloseCode c) { return static_cast<int>(c); }

}  // namespace raptor
