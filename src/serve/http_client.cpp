// Implementation of serve/http_client.h.
#include "omnirm/serve/http_client.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace omnirm::serve {

HttpClient::HttpClient(std::string host, int port, int timeout_ms)
    : host_(std::move(host)), port_(port), timeout_ms_(timeout_ms) {}

HttpClient::~HttpClient() { close(); }

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
}

void HttpClient::connect() {
  close();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(port_);
  if (::getaddrinfo(host_.c_str(), port.c_str(), &hints, &found) != 0) {
    throw std::runtime_error("cannot resolve " + host_);
  }
  std::string failure = "no address";
  for (addrinfo* a = found; a != nullptr && fd_ < 0; a = a->ai_next) {
    fd_ = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd_ >= 0 && ::connect(fd_, a->ai_addr, a->ai_addrlen) != 0) {
      failure = std::strerror(errno);
      ::close(fd_);
      fd_ = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd_ < 0) {
    throw std::runtime_error("cannot connect to " + host_ + ":" + port + ": " + failure);
  }
  const int on = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

bool HttpClient::send_bytes(const std::string& bytes) {
  size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    sent += static_cast<size_t>(n);
  }
  return true;
}

HttpReply HttpClient::read_reply() {
  HttpReply reply;
  size_t head_end = std::string::npos;
  while (true) {
    head_end = buffer_.find("\r\n\r\n");
    if (head_end != std::string::npos) {
      // Skip interim 1xx responses (100 Continue).
      if (buffer_.compare(0, 10, "HTTP/1.1 1") == 0) {
        buffer_.erase(0, head_end + 4);
        continue;
      }
      break;
    }
    pollfd entry{fd_, POLLIN, 0};
    const int ready = ::poll(&entry, 1, timeout_ms_);
    if (ready == 0) throw std::runtime_error("no reply within the client's timeout");
    char chunk[64 * 1024];
    const ssize_t n = ready < 0 ? -1 : ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (buffer_.empty()) return reply;  // status 0: closed before answering
      throw std::runtime_error("connection closed in the middle of a reply");
    }
    buffer_.append(chunk, static_cast<size_t>(n));
  }
  const std::optional<ResponseHead> head =
      parse_response_head(std::string_view(buffer_).substr(0, head_end));
  if (!head) throw std::runtime_error("malformed reply head");
  const std::optional<int64_t> length = content_length(head->headers);
  if (!length) throw std::runtime_error("malformed Content-Length in a reply");
  const size_t body_end = head_end + 4 + static_cast<size_t>(*length);
  while (buffer_.size() < body_end) {
    pollfd entry{fd_, POLLIN, 0};
    if (::poll(&entry, 1, timeout_ms_) <= 0) throw std::runtime_error("reply body timed out");
    char chunk[64 * 1024];
    const ssize_t n = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw std::runtime_error("connection closed in the middle of a reply body");
    buffer_.append(chunk, static_cast<size_t>(n));
  }
  reply.status = head->status;
  reply.headers = head->headers;
  reply.body = buffer_.substr(head_end + 4, static_cast<size_t>(*length));
  buffer_.erase(0, body_end);
  const std::string* connection = find_header(reply.headers, "Connection");
  if (connection != nullptr && *connection == "close") close();
  return reply;
}

HttpReply HttpClient::request(const std::string& method, const std::string& target,
                              const std::string& body) {
  const std::string bytes = serialize_request(method, host_, target, body);
  const bool reused = fd_ >= 0;
  if (!reused) connect();
  if (send_bytes(bytes)) {
    HttpReply reply = read_reply();
    if (reply.status != 0) return reply;
  }
  if (!reused) throw std::runtime_error("the server closed the connection without a reply");
  // The server closed the kept-alive connection before reading this request: once more.
  connect();
  if (!send_bytes(bytes)) throw std::runtime_error("cannot send the request");
  HttpReply reply = read_reply();
  if (reply.status == 0) {
    throw std::runtime_error("the server closed the connection without a reply");
  }
  return reply;
}

HttpReply HttpClient::send_raw(const std::string& bytes) {
  connect();
  send_bytes(bytes);  // the server may answer and close before reading everything
  HttpReply reply = read_reply();
  close();
  return reply;
}

}  // namespace omnirm::serve
