// Implementation of serve/http_request_reader.h.
#include "omnirm/serve/http_request_reader.h"

#include <utility>

namespace omnirm::serve {

HttpRequestReader::HttpRequestReader(const FramingLimits& limits) : limits_(limits) {}

void HttpRequestReader::feed(std::string_view bytes) {
  if (state_ == State::refused) return;
  buffer_.append(bytes);
}

HttpRequestReader::State HttpRequestReader::state() {
  frame();
  return state_;
}

void HttpRequestReader::refuse(int status, const std::string& message) {
  state_ = State::refused;
  refusal_ = json_error(status, message);
  refusal_.close = true;
  buffer_.clear();
}

void HttpRequestReader::frame() {
  if (state_ == State::idle || state_ == State::head) {
    // Empty lines before a request line are allowed (RFC 9112 section 2.2).
    size_t skip = 0;
    while (buffer_.size() >= skip + 2 && buffer_.compare(skip, 2, "\r\n") == 0) skip += 2;
    if (skip > 0) buffer_.erase(0, skip);
    if (buffer_.empty()) {
      state_ = State::idle;
      return;
    }
    state_ = State::head;
    const size_t head_end = buffer_.find("\r\n\r\n");
    // The head's size counts whether it came in one read or many.
    const size_t head_bytes = head_end == std::string::npos ? buffer_.size() : head_end;
    if (static_cast<int64_t>(head_bytes) > limits_.max_head_bytes) {
      refuse(431, "request head is over " + std::to_string(limits_.max_head_bytes) +
                      " bytes; send fewer or shorter headers");
      return;
    }
    if (head_end == std::string::npos) return;

    ParsedRequestHead parsed = parse_request_head(std::string_view(buffer_).substr(0, head_end));
    if (parsed.error) {
      refuse(parsed.error->status, parsed.error->message);
      return;
    }
    HttpRequest& request = parsed.request;
    if (request.header("Transfer-Encoding") != nullptr) {
      refuse(501, "Transfer-Encoding is not supported; send the body with Content-Length");
      return;
    }
    const std::optional<int64_t> length = content_length(request.headers);
    if (!length) {
      refuse(400, "malformed Content-Length header");
      return;
    }
    if (request.header("Content-Length") == nullptr && request.method == "POST") {
      refuse(411, "POST needs a Content-Length header");
      return;
    }
    if (*length > limits_.max_body_bytes) {
      refuse(413, "request body of " + std::to_string(*length) + " bytes is over the limit of " +
                      std::to_string(limits_.max_body_bytes) +
                      " bytes (server option --max-request-bytes)");
      return;
    }
    request_ = std::move(request);
    body_start_ = head_end + 4;
    body_length_ = static_cast<size_t>(*length);
    const std::string* expect = request_.header("Expect");
    continue_pending_ = expect != nullptr && *expect == "100-continue";
    state_ = State::body;
  }
  if (state_ == State::body && buffer_.size() >= body_start_ + body_length_) {
    continue_pending_ = false;
    state_ = State::complete;
  }
}

HttpRequest HttpRequestReader::take() {
  HttpRequest request = std::move(request_);
  request.body = buffer_.substr(body_start_, body_length_);
  buffer_.erase(0, body_start_ + body_length_);
  request_ = HttpRequest{};
  body_start_ = body_length_ = 0;
  state_ = State::idle;
  return request;
}

bool HttpRequestReader::take_continue() {
  frame();
  if (state_ != State::body || !continue_pending_) return false;
  continue_pending_ = false;
  return true;
}

}  // namespace omnirm::serve
