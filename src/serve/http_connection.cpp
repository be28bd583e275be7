// Implementation of http_connection.h.
#include "http_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

namespace omnirm::serve {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kSliceMs = 50;

int64_t ms_since(Clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

}  // namespace

HttpConnection::HttpConnection(int fd) : fd_(fd) {}

HttpConnection::~HttpConnection() {
  if (fd_ >= 0) ::close(fd_);
}

int64_t HttpConnection::read_some(int wait_ms) {
  pollfd entry{fd_, POLLIN, 0};
  const int ready = ::poll(&entry, 1, wait_ms);
  if (ready == 0 || (ready < 0 && errno == EINTR)) return 0;
  if (ready < 0) return -1;
  char chunk[64 * 1024];
  const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
  if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)) return 0;
  if (n <= 0) return -1;
  buffer_.append(chunk, static_cast<size_t>(n));
  return n;
}

ReadResult HttpConnection::refuse(int status, const std::string& message) {
  ReadResult result;
  result.outcome = ReadOutcome::refused;
  result.refusal = json_error(status, message);
  result.refusal.close = true;
  return result;
}

ReadResult HttpConnection::read_request(const ConnectionLimits& limits,
                                        const std::function<bool()>& end_idle_wait) {
  const Clock::time_point idle_since = Clock::now();
  Clock::time_point started_at = idle_since;
  bool started = false;
  size_t head_end = std::string::npos;
  while (true) {
    // Empty lines before a request line are allowed (RFC 9112 section 2.2).
    while (buffer_.size() >= 2 && buffer_.compare(0, 2, "\r\n") == 0) buffer_.erase(0, 2);
    if (!started && !buffer_.empty()) {
      started = true;
      started_at = Clock::now();
    }
    head_end = buffer_.find("\r\n\r\n");
    // The head's size counts whether it came in one read or many.
    const size_t head_bytes = head_end == std::string::npos ? buffer_.size() : head_end;
    if (static_cast<int64_t>(head_bytes) > limits.max_head_bytes) {
      return refuse(431, "request head is over " + std::to_string(limits.max_head_bytes) +
                             " bytes; send fewer or shorter headers");
    }
    if (head_end != std::string::npos) break;
    const int64_t got = read_some(kSliceMs);
    if (got < 0) return ReadResult{};
    if (got > 0) continue;
    if (!started) {
      if (end_idle_wait() || ms_since(idle_since) >= limits.idle_timeout_ms) return ReadResult{};
    } else if (ms_since(started_at) >= limits.request_timeout_ms) {
      return refuse(408, "request not complete within " +
                             std::to_string(limits.request_timeout_ms / 1000) + " s");
    }
  }

  ParsedRequestHead parsed = parse_request_head(std::string_view(buffer_).substr(0, head_end));
  if (parsed.error) return refuse(parsed.error->status, parsed.error->message);
  HttpRequest& request = parsed.request;
  if (request.header("Transfer-Encoding") != nullptr) {
    return refuse(501, "Transfer-Encoding is not supported; send the body with Content-Length");
  }
  const std::optional<int64_t> length = content_length(request.headers);
  if (!length) return refuse(400, "malformed Content-Length header");
  if (request.header("Content-Length") == nullptr && request.method == "POST") {
    return refuse(411, "POST needs a Content-Length header");
  }
  if (*length > limits.max_body_bytes) {
    return refuse(413, "request body of " + std::to_string(*length) +
                           " bytes is over the limit of " + std::to_string(limits.max_body_bytes) +
                           " bytes (server option --max-request-bytes)");
  }
  const size_t body_start = head_end + 4;
  const size_t body_end = body_start + static_cast<size_t>(*length);
  const std::string* expect = request.header("Expect");
  if (expect != nullptr && *expect == "100-continue" && buffer_.size() < body_end) {
    if (!send_all("HTTP/1.1 100 Continue\r\n\r\n")) return ReadResult{};
  }
  while (buffer_.size() < body_end) {
    const int64_t got = read_some(kSliceMs);
    if (got < 0) return ReadResult{};  // the client left mid-request: nothing to answer
    if (got == 0 && ms_since(started_at) >= limits.request_timeout_ms) {
      return refuse(408, "request body not complete within " +
                             std::to_string(limits.request_timeout_ms / 1000) + " s");
    }
  }
  request.body = buffer_.substr(body_start, static_cast<size_t>(*length));
  buffer_.erase(0, body_end);
  ReadResult result;
  result.outcome = ReadOutcome::request;
  result.request = std::move(request);
  return result;
}

bool HttpConnection::send_all(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;  // peer gone, or the send timeout passed
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void HttpConnection::linger_close() {
  ::shutdown(fd_, SHUT_WR);
  const Clock::time_point start = Clock::now();
  constexpr int kLingerMs = 2000;
  while (ms_since(start) < kLingerMs) {
    buffer_.clear();
    if (read_some(kSliceMs) < 0) break;
  }
}

}  // namespace omnirm::serve
