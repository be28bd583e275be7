// Implementation of serve/http_server.h.
#include "omnirm/serve/http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <exception>

#include "http_connection.h"
#include "omnirm/core/error.h"

namespace omnirm::serve {
namespace {

constexpr int kAcceptSliceMs = 100;
constexpr int kSendTimeoutSeconds = 10;

std::string where(const HttpServerOptions& options) {
  return "--host " + options.host + " --port " + std::to_string(options.port);
}

int bind_listener(const HttpServerOptions& options) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(options.port);
  if (const int rc = ::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found); rc != 0) {
    throw UserError(where(options) + ": cannot resolve the host (" + ::gai_strerror(rc) +
                    "); give an address such as 127.0.0.1 or 0.0.0.0");
  }
  std::string failure = "no address";
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      failure = std::strerror(errno);
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0 || ::listen(fd, SOMAXCONN) != 0) {
      failure = std::strerror(errno);
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(found);
  if (fd < 0) {
    throw UserError(where(options) + ": cannot listen (" + failure +
                    "); choose another port, or --port 0 for any free one");
  }
  return fd;
}

int bound_port(int fd) {
  sockaddr_storage address{};
  socklen_t length = sizeof(address);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  if (address.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
  }
  return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
}

void tune_socket(int fd) {
  const int on = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));  // small responses, no delay
  timeval timeout{kSendTimeoutSeconds, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
}

}  // namespace

HttpServer::HttpServer(const HttpServerOptions& options, Handler handler)
    : options_(options), handler_(std::move(handler)) {
  if (options_.threads < 1) throw UserError("--http-threads must be at least 1");
  listen_fd_ = bind_listener(options_);
  port_ = bound_port(listen_fd_);
  acceptor_ = std::thread([this] { accept_loop(); });
  for (int i = 0; i < options_.threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  if (acceptor_.joinable()) acceptor_.join();
  ::close(listen_fd_);
  ready_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

bool HttpServer::others_waiting() {
  std::lock_guard<std::mutex> lock(mutex_);
  return !pending_.empty();
}

void HttpServer::accept_loop() {
  while (!stopping_) {
    pollfd entry{listen_fd_, POLLIN, 0};
    if (::poll(&entry, 1, kAcceptSliceMs) <= 0) continue;
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // the peer gave up already, or out of descriptors for a moment
    tune_socket(fd);
    std::unique_lock<std::mutex> lock(mutex_);
    if (static_cast<int64_t>(pending_.size()) >= options_.max_pending_connections) {
      lock.unlock();
      HttpConnection connection(fd);
      connection.send_all(serialize_response(
          json_error(503, "too many connections waiting; retry later"), /*keep_alive=*/false));
      continue;
    }
    pending_.push_back(fd);
    lock.unlock();
    ready_.notify_one();
  }
}

void HttpServer::worker_loop() {
  while (true) {
    int fd = -1;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      ready_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      // Connections accepted before stop() still get their request answered.
      if (pending_.empty()) return;
      fd = pending_.front();
      pending_.pop_front();
    }
    serve_connection(fd);
  }
}

void HttpServer::serve_connection(int fd) {
  HttpConnection connection(fd);
  ConnectionLimits limits;
  limits.max_head_bytes = options_.max_head_bytes;
  limits.max_body_bytes = options_.max_body_bytes;
  limits.idle_timeout_ms = options_.idle_timeout_ms;
  limits.request_timeout_ms = options_.request_timeout_ms;
  // An idle kept-alive connection yields its worker when the server stops or others wait.
  const auto end_idle_wait = [this] { return stopping_ || others_waiting(); };
  while (true) {
    ReadResult read = connection.read_request(limits, end_idle_wait);
    if (read.outcome == ReadOutcome::closed) return;
    if (read.outcome == ReadOutcome::refused) {
      if (connection.send_all(serialize_response(read.refusal, /*keep_alive=*/false))) {
        connection.linger_close();
      }
      return;
    }
    HttpResponse response;
    try {
      response = handler_(read.request);
    } catch (const std::exception& error) {
      response = json_error(500, std::string("internal error: ") + error.what());
    } catch (...) {
      response = json_error(500, "internal error");
    }
    const bool keep_alive =
        read.request.wants_keep_alive() && !response.close && !stopping_ && !others_waiting();
    if (!connection.send_all(serialize_response(response, keep_alive)) || !keep_alive) return;
  }
}

}  // namespace omnirm::serve
