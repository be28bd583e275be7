// One accepted HTTP/1.1 connection on the server side: reads requests one after another
// (keep-alive and pipelining: bytes past a request stay buffered for the next one), refuses
// what cannot be served with the right status before reading further, and writes responses.
// Waits use poll() in short slices, so a caller can end an idle wait (server stopping, or
// other clients waiting for a worker) and no wait is unbounded.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "omnirm/serve/http_message.h"

namespace omnirm::serve {

struct ConnectionLimits {
  int64_t max_head_bytes = 16 * 1024;
  int64_t max_body_bytes = 1024 * 1024;
  int idle_timeout_ms = 10000;     // no byte of a next request for this long: close quietly
  int request_timeout_ms = 30000;  // a started request must be complete within this: 408
};

enum class ReadOutcome {
  request,  // `request` holds a complete request
  closed,   // the peer closed, went idle, or the caller ended the wait: nothing to answer
  refused,  // `refusal` should be sent, then the connection closed
};

struct ReadResult {
  ReadOutcome outcome = ReadOutcome::closed;
  HttpRequest request;
  HttpResponse refusal;
};

class HttpConnection {
 public:
  explicit HttpConnection(int fd);  // takes ownership of fd
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  // The next request. While no byte of it has arrived, `end_idle_wait` is asked every few
  // tens of milliseconds; true ends the wait with ReadOutcome::closed.
  ReadResult read_request(const ConnectionLimits& limits,
                          const std::function<bool()>& end_idle_wait);

  // Writes all of `bytes`; false when the peer is gone or stalls past the send timeout.
  bool send_all(std::string_view bytes);

  // Half-closes and discards what the peer still sends for a moment, so a response sent
  // before reading the whole request reaches the client instead of being lost to a reset.
  void linger_close();

 private:
  // Reads what is available within `wait_ms`: bytes read, 0 on timeout, -1 when closed.
  int64_t read_some(int wait_ms);
  ReadResult refuse(int status, const std::string& message);

  int fd_;
  std::string buffer_;
};

}  // namespace omnirm::serve
