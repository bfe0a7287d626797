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
  PathNotFound = 4005,
  InvalidVersion = 4006,
  UnsupportedVersion = 4007,
  NoVersion = 4008,
  OverCapacity = 4100,  // the client could not keep up with its send queue
  PongTimeout = 4201,
};

enum class ErrorCode : int {
  InvalidMessage = 4300,
  RateLimited = 4301,  // Pusher's code for client events over 10/s
  InvalidChannel = 4303,
  Unauthorized = 4304,
  PresenceLimit = 4305,
  ClientEventRefused = 4306,
  PayloadTooLarge = 4307,
};

}  // namespace raptor
