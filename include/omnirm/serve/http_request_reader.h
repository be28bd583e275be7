// Framing HTTP/1.1 requests out of the bytes of one connection, with no socket and no clock:
// bytes go in as they arrive (in any chunking), complete requests come out one at a time
// (keep-alive and pipelining: bytes past a request stay buffered for the next). What cannot
// be served is refused with its status before the rest is read: a head over the limit (431),
// a malformed head (400, 505), chunked bodies (501), a POST without Content-Length (411), a
// body over the limit (413, from the head alone). The server's event loop owns the sockets
// and the deadlines; the fuzz target drives this class directly.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "omnirm/serve/http_message.h"

namespace omnirm::serve {

struct FramingLimits {
  int64_t max_head_bytes = 16 * 1024;
  int64_t max_body_bytes = 16 * 1024 * 1024;
};

class HttpRequestReader {
 public:
  enum class State {
    idle,      // no byte of a next request buffered
    head,      // part of a head buffered
    body,      // the head is parsed; part of the body buffered
    complete,  // a request is ready: take() it
    refused,   // refusal() should be sent, then the connection closed
  };

  explicit HttpRequestReader(const FramingLimits& limits);

  // Appends received bytes; call state() afterwards. Bytes fed after a refusal are dropped.
  void feed(std::string_view bytes);

  // Where the next request stands (frames as far as the buffered bytes allow).
  State state();

  // The complete request; the reader moves on to the next one. Only in State::complete.
  HttpRequest take();

  // The error response; only in State::refused.
  const HttpResponse& refusal() const { return refusal_; }

  // True once per request whose head asked "Expect: 100-continue" while its body is still
  // missing: the server should send "HTTP/1.1 100 Continue" now.
  bool take_continue();

  // Bytes buffered and not yet handed out.
  size_t buffered() const { return buffer_.size(); }

 private:
  void refuse(int status, const std::string& message);
  void frame();  // advances head → body → complete as far as the buffer allows

  FramingLimits limits_;
  std::string buffer_;
  State state_ = State::idle;
  HttpRequest request_;  // the head of the request being read
  size_t body_start_ = 0;
  size_t body_length_ = 0;
  bool continue_pending_ = false;
  HttpResponse refusal_;
};

}  // namespace omnirm::serve
