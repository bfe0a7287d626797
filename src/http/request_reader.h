// Reads HTTP/1.1 requests out of a connection's byte stream, one at a time, with Node's classic
// parser (Debian's libhttp-parser 2.9: chunked bodies, keep-alive, pipelining, upgrade
// detection, request smuggling defences). It owns no socket and no clock: net/ feeds it what
// arrives and acts on what it reports, so it is tested and fuzzed on bytes alone.
// docs/protocol.md#http lists the rules it applies.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "http/request.h"

struct http_parser;

namespace raptor::http {

struct ReaderLimits {
  size_t max_target = 8 << 10;  // the request target (path and query): 414 beyond
  size_t max_head = 16 << 10;   // request line and header fields together: 431 beyond
  size_t max_fields = 100;      // header fields: 431 beyond
  size_t max_body = 1 << 20;    // 413 beyond; before the body is read when its length is announced
  // An announced body over max_body but under this is skipped (read and dropped) after the 413,
  // keeping the connection; a larger one closes it.
  size_t max_skipped_body = 16 << 20;
};

class RequestReader {
 public:
  enum class Event {
    NeedMore,      // everything fed is used: feed more
    SendContinue,  // the client waits for "100 Continue" before it sends the body: send it, then next()
    Request,       // request() is complete (body included): answer it, then next() for the one after
    Refuse,        // answer refusal(); then close if closes(), else next() goes on after its body
    Upgrade,       // a WebSocket upgrade: upgrade_bytes() from its first byte, for libwebsockets
  };

  explicit RequestReader(ReaderLimits limits = {});
  ~RequestReader();
  RequestReader(const RequestReader&) = delete;
  RequestReader& operator=(const RequestReader&) = delete;

  // Appends what arrived. It is read by next().
  void feed(const char* data, size_t size);
  // Reads on from where it stopped, to the next event.
  Event next();

  // The request the last Request, Upgrade or SendContinue event is about (body only with Request).
  const Request& request() const { return request_; }
  // After Request: whether the connection may carry another request (HTTP/1.1 without
  // "Connection: close", or HTTP/1.0 with "Connection: keep-alive").
  bool keep_alive() const { return keep_alive_; }
  // After Refuse: the answer, and whether the stream cannot go on after it.
  const Response& refusal() const { return refusal_; }
  bool closes() const { return closes_; }
  // After Upgrade: the bytes of the upgrade request from its first, and all fed after them.
  std::string upgrade_bytes() const { return buffer_; }

  enum class Phase { Idle, Head, Body };
  // Between requests (Idle), reading a request line and its fields (Head), or its body (Body):
  // net/ times each phase out differently.
  Phase phase() const;
  // Bytes fed and not yet read (a pipelined request waiting its turn, say).
  size_t buffered() const { return buffer_.size() - parsed_; }

 private:
  friend struct ReaderCallbacks;
  enum class Stop { None, HeadersDone, MessageDone };
  // What to report once the head is read; nullopt to read on.
  std::optional<Event> decide_on_head();
  Event refuse(int status, std::string message, bool close);
  Event refuse_parse_error();
  // Called by a callback to stop the parser over a limit; the refusal is given with this status.
  int overflow(int status, const char* message);
  void compact();

  ReaderLimits limits_;
  std::unique_ptr<http_parser> parser_;
  std::string buffer_;  // fed bytes, from the current request's first (while its head is read) on
  size_t parsed_ = 0;   // how far the parser has read buffer_
  Request request_;
  Response refusal_;
  bool closes_ = false;
  bool keep_alive_ = true;
  bool failed_ = false;  // the connection ends after the last event: nothing more is read

  // Filled by the parser's callbacks while a request is read.
  Stop stop_ = Stop::None;
  bool began_ = false, headers_done_ = false;
  std::string target_, field_, value_, expectation_;
  bool in_value_ = false;
  size_t fields_ = 0, head_bytes_ = 0, body_seen_ = 0;
  bool websocket_ = false;
  bool refused_ = false;  // the request was refused from its head: its body is dropped
  int overflow_status_ = 0;
  const char* overflow_message_ = "";
};

// Splits a request target whose characters the parser has accepted into the decoded path and
// query (name, value pairs in order; '+' is a space in the query); false when a %-escape is
// malformed.
bool split_target(const std::string& target, Request& out);

}  // namespace raptor::http
