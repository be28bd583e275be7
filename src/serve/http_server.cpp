// Implementation of serve/http_server.h.
#include "omnirm/serve/http_server.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>

#include "omnirm/core/error.h"

namespace omnirm::serve {
namespace {

constexpr int kSweepMs = 25;         // how often deadlines are checked
constexpr int kLingerMs = 2000;      // reading what a refused client still sends
constexpr int kPauseAcceptMs = 100;  // out of descriptors: try accepting again after this
constexpr int kReservedFds = 64;     // descriptors kept for model files, pipes, logs
constexpr size_t kReadChunk = 64 * 1024;
constexpr int kReadsPerWake = 16;  // at most 1 MiB from one connection per wake-up
constexpr int kMaxEvents = 256;

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

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
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
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

// The descriptors this process may open (the soft limit).
int64_t descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) {
    return int64_t{1} << 20;
  }
  return static_cast<int64_t>(limit.rlim_cur);
}

// epoll's data word: the connection's number above its descriptor (0 for the listener and
// the wake-up descriptor).
uint64_t tag(int fd, uint64_t id) { return (id << 32) | static_cast<uint32_t>(fd); }

}  // namespace

struct HttpServer::Connection {
  enum class Phase {
    reading,   // framing a request
    handling,  // a handler has its request; nothing is read meanwhile
    writing,   // a response is being sent
    lingering  // a refusal was sent and the write side shut; reading what still comes
  };

  Connection(int fd_, uint64_t id_, const FramingLimits& limits)
      : fd(fd_), id(id_), reader(limits) {}

  int fd;
  uint64_t id;
  Phase phase = Phase::reading;
  HttpRequestReader reader;
  HttpRequestReader::State framed = HttpRequestReader::State::idle;  // as of the last read
  int64_t phase_started_ms = 0;  // when the current framing state or phase began
  int64_t deadline_ms = 0;
  std::string out;  // bytes still to send
  bool keep_alive = true;
  bool linger = false;
  uint32_t events = 0;  // the epoll interest registered
};

HttpServer::HttpServer(const HttpServerOptions& options, Handler handler)
    : options_(options), handler_(std::move(handler)) {
  if (options_.handler_threads < 1) throw UserError("--http-threads must be at least 1");
  max_connections_ =
      std::max<int64_t>(1, std::min(options_.max_connections, descriptor_limit() - kReservedFds));
  listen_fd_ = bind_listener(options_);
  port_ = bound_port(listen_fd_);
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (epoll_fd_ < 0 || wake_fd_ < 0) {
    const std::string failure = std::strerror(errno);
    ::close(listen_fd_);
    throw std::runtime_error("serve: cannot create the event loop: " + failure);
  }
  epoll_event listen_event{EPOLLIN, {.u64 = tag(listen_fd_, 0)}};
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &listen_event);
  epoll_event wake_event{EPOLLIN, {.u64 = tag(wake_fd_, 0)}};
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &wake_event);
  loop_ = std::thread([this] { event_loop(); });
  for (int i = 0; i < options_.handler_threads; ++i) {
    handlers_.emplace_back([this] { handler_loop(); });
  }
}

HttpServer::~HttpServer() { stop(); }

HttpServerStats HttpServer::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return stats_;
}

void HttpServer::stop() {
  if (stopping_.exchange(true)) return;
  const uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  if (loop_.joinable()) loop_.join();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    handlers_stop_ = true;
  }
  job_ready_.notify_all();
  for (std::thread& handler : handlers_) handler.join();
  ::close(epoll_fd_);
  ::close(wake_fd_);
}

// ---------------------------------------------------------------------------------------
// Handler threads.

void HttpServer::handler_loop() {
  while (true) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      job_ready_.wait(lock, [this] { return handlers_stop_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      job = std::move(jobs_.front());
      jobs_.pop_front();
    }
    Done done{job.fd, job.id, {}, false};
    try {
      done.response = handler_(job.request);
    } catch (const std::exception& error) {
      done.response = json_error(500, std::string("internal error: ") + error.what());
    } catch (...) {
      done.response = json_error(500, "internal error");
    }
    done.keep_alive = job.request.wants_keep_alive() && !done.response.close;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.push_back(std::move(done));
    }
    const uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof(one));
  }
}

// ---------------------------------------------------------------------------------------
// The event loop.

HttpServer::Connection* HttpServer::find(int fd, uint64_t id) {
  if (fd < 0 || static_cast<size_t>(fd) >= by_fd_.size()) return nullptr;
  Connection* connection = by_fd_[static_cast<size_t>(fd)].get();
  return connection != nullptr && connection->id == id ? connection : nullptr;
}

void HttpServer::watch(Connection& connection, uint32_t events) {
  if (connection.events == events) return;
  epoll_event event{events, {.u64 = tag(connection.fd, connection.id)}};
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, connection.fd, &event);
  connection.events = events;
}

void HttpServer::close_connection(Connection& connection) {
  const int fd = connection.fd;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  ::close(fd);
  by_fd_[static_cast<size_t>(fd)].reset();
  --open_connections_;
  std::lock_guard<std::mutex> lock(mutex_);
  stats_.open_connections = open_connections_;
}

void HttpServer::stop_listening() {
  if (listen_fd_ < 0) return;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
  ::close(listen_fd_);
  listen_fd_ = -1;
}

void HttpServer::accept_all() {
  while (listen_fd_ >= 0) {
    const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: stop polling the listener for a moment instead of spinning.
        ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, listen_fd_, nullptr);
        listening_paused_ = true;
        paused_until_ms_ = now_ms() + kPauseAcceptMs;
      }
      return;  // EAGAIN: nothing more to accept
    }
    if (open_connections_ >= max_connections_) {
      {  // counted before the client can see the refusal: a client that reads the stats
         // after its 503 finds it counted
        std::lock_guard<std::mutex> lock(mutex_);
        ++stats_.refused_connections;
      }
      // Best effort: the socket is new, so the short answer fits its send buffer.
      const std::string refusal = serialize_response(
          json_error(503, "too many open connections (" + std::to_string(max_connections_) +
                              "); retry later"),
          /*keep_alive=*/false);
      [[maybe_unused]] const ssize_t n =
          ::send(fd, refusal.data(), refusal.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      ::close(fd);
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));  // small responses, no delay
    if (static_cast<size_t>(fd) >= by_fd_.size()) by_fd_.resize(static_cast<size_t>(fd) + 1);
    auto connection = std::make_unique<Connection>(
        fd, next_id_++, FramingLimits{options_.max_head_bytes, options_.max_body_bytes});
    connection->phase_started_ms = now_ms();
    connection->deadline_ms = connection->phase_started_ms + options_.idle_timeout_ms;
    connection->events = EPOLLIN;
    epoll_event event{EPOLLIN, {.u64 = tag(fd, connection->id)}};
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event);
    by_fd_[static_cast<size_t>(fd)] = std::move(connection);
    ++open_connections_;
    std::lock_guard<std::mutex> lock(mutex_);
    ++stats_.accepted;
    stats_.open_connections = open_connections_;
  }
}

void HttpServer::on_readable(Connection& connection) {
  char chunk[kReadChunk];
  for (int i = 0; i < kReadsPerWake; ++i) {
    const ssize_t n = ::recv(connection.fd, chunk, sizeof(chunk), 0);
    if (n > 0) {
      if (connection.phase == Connection::Phase::reading) {
        connection.reader.feed(std::string_view(chunk, static_cast<size_t>(n)));
      }
      // Lingering: what a refused client still sends is dropped.
      if (static_cast<size_t>(n) < sizeof(chunk)) break;
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    // The peer closed (or the socket failed): a half-received request has nobody to answer.
    close_connection(connection);
    return;
  }
  after_read(connection);
}

void HttpServer::after_read(Connection& connection) {
  if (connection.phase != Connection::Phase::reading) return;
  if (connection.reader.take_continue()) {
    connection.out += "HTTP/1.1 100 Continue\r\n\r\n";
    flush(connection);
    if (by_fd_[static_cast<size_t>(connection.fd)].get() != &connection) return;  // closed
  }
  using State = HttpRequestReader::State;
  const State state = connection.reader.state();
  const int64_t now = now_ms();
  if (state != connection.framed) connection.phase_started_ms = now;
  connection.framed = state;
  switch (state) {
    case State::idle:
      connection.deadline_ms = connection.phase_started_ms + options_.idle_timeout_ms;
      return;
    case State::head:
      connection.deadline_ms = connection.phase_started_ms + options_.head_timeout_ms;
      return;
    case State::body:
      connection.deadline_ms = connection.phase_started_ms + options_.body_timeout_ms;
      return;
    case State::refused:
      respond(connection, connection.reader.refusal(), /*keep_alive=*/false);
      return;
    case State::complete:
      break;
  }
  Job job{connection.fd, connection.id, connection.reader.take()};
  const bool keep_alive = job.request.wants_keep_alive();
  {
    std::unique_lock<std::mutex> lock(mutex_);
    if (static_cast<int64_t>(jobs_.size()) >= options_.max_waiting_requests) {
      lock.unlock();
      respond(connection,
              json_error(503, "too many requests waiting (" +
                                  std::to_string(options_.max_waiting_requests) + "); retry later"),
              keep_alive);
      return;
    }
    jobs_.push_back(std::move(job));
    ++stats_.requests;
  }
  job_ready_.notify_one();
  ++in_handler_;
  connection.phase = Connection::Phase::handling;
  watch(connection, 0);  // errors and hang-ups are still reported
}

void HttpServer::respond(Connection& connection, const HttpResponse& response, bool keep_alive) {
  keep_alive = keep_alive && !response.close && !stopping_;
  connection.out += serialize_response(response, keep_alive);
  connection.keep_alive = keep_alive;
  connection.linger = response.close;  // a refusal: the client may still be sending
  connection.phase = Connection::Phase::writing;
  connection.phase_started_ms = now_ms();
  connection.deadline_ms = connection.phase_started_ms + options_.write_timeout_ms;
  flush(connection);
}

void HttpServer::flush(Connection& connection) {
  size_t sent = 0;
  while (sent < connection.out.size()) {
    const ssize_t n = ::send(connection.fd, connection.out.data() + sent,
                             connection.out.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    close_connection(connection);  // the peer is gone
    return;
  }
  connection.out.erase(0, sent);
  const bool reading = connection.phase == Connection::Phase::reading;
  if (!connection.out.empty()) {
    watch(connection, reading ? EPOLLIN | EPOLLOUT : EPOLLOUT);
    return;
  }
  if (connection.phase != Connection::Phase::writing) {
    if (reading) watch(connection, EPOLLIN);
    return;
  }
  // The response is out.
  if (connection.keep_alive && !stopping_) {
    connection.phase = Connection::Phase::reading;
    connection.framed = HttpRequestReader::State::idle;
    connection.phase_started_ms = now_ms();
    watch(connection, EPOLLIN);
    after_read(connection);  // a pipelined request may be buffered already
    return;
  }
  if (connection.linger && !stopping_) {
    // Half-close and read what the client still sends for a moment, so the refusal reaches
    // it instead of being lost to a reset.
    ::shutdown(connection.fd, SHUT_WR);
    connection.phase = Connection::Phase::lingering;
    connection.deadline_ms = now_ms() + kLingerMs;
    watch(connection, EPOLLIN);
    return;
  }
  close_connection(connection);
}

void HttpServer::on_writable(Connection& connection) { flush(connection); }

void HttpServer::collect_done() {
  uint64_t count = 0;
  [[maybe_unused]] const ssize_t n = ::read(wake_fd_, &count, sizeof(count));
  std::deque<Done> done;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    done.swap(done_);
  }
  for (Done& item : done) {
    --in_handler_;
    Connection* connection = find(item.fd, item.id);
    if (connection == nullptr || connection->phase != Connection::Phase::handling) continue;
    respond(*connection, item.response, item.keep_alive);
  }
}

void HttpServer::expire_deadlines() {
  const int64_t now = now_ms();
  for (std::unique_ptr<Connection>& slot : by_fd_) {
    if (!slot || slot->phase == Connection::Phase::handling || now < slot->deadline_ms) continue;
    Connection& connection = *slot;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      ++stats_.timeouts;
    }
    if (connection.phase == Connection::Phase::reading &&
        connection.framed != HttpRequestReader::State::idle) {
      const bool head = connection.framed == HttpRequestReader::State::head;
      HttpResponse timeout = json_error(
          408,
          std::string(head ? "request head" : "request body") + " not complete within " +
              std::to_string((head ? options_.head_timeout_ms : options_.body_timeout_ms) / 1000) +
              " s; send the whole request promptly");
      timeout.close = true;
      respond(connection, timeout, /*keep_alive=*/false);
      continue;
    }
    close_connection(connection);  // idle, a stalled write, or the end of a linger
  }
  if (listening_paused_ && now >= paused_until_ms_ && listen_fd_ >= 0) {
    epoll_event event{EPOLLIN, {.u64 = tag(listen_fd_, 0)}};
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &event);
    listening_paused_ = false;
  }
}

void HttpServer::event_loop() {
  epoll_event events[kMaxEvents];
  int64_t last_sweep = now_ms();
  bool shutting_down = false;
  while (true) {
    if (stopping_ && !shutting_down) {
      // Requests already received are answered; connections with none are closed.
      shutting_down = true;
      stop_listening();
      for (std::unique_ptr<Connection>& slot : by_fd_) {
        if (slot && (slot->phase == Connection::Phase::reading ||
                     slot->phase == Connection::Phase::lingering)) {
          close_connection(*slot);
        }
      }
    }
    if (shutting_down && open_connections_ == 0 && in_handler_ == 0) break;
    const int ready = ::epoll_wait(epoll_fd_, events, kMaxEvents, kSweepMs);
    for (int i = 0; i < ready; ++i) {
      const uint64_t data = events[i].data.u64;
      const int fd = static_cast<int>(data & 0xffffffffu);
      const uint64_t id = data >> 32;
      if (id == 0 && fd == wake_fd_) {
        collect_done();
        continue;
      }
      if (id == 0) {
        accept_all();
        continue;
      }
      Connection* connection = find(fd, id);
      if (connection == nullptr) continue;  // closed earlier in this round
      const uint32_t what = events[i].events;
      if ((what & EPOLLOUT) != 0) {
        on_writable(*connection);
        connection = find(fd, id);
        if (connection == nullptr) continue;
      }
      if ((what & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0) {
        if (connection->phase == Connection::Phase::handling) {
          // Hung up while its request is handled: only the answer is lost.
          if ((what & (EPOLLHUP | EPOLLERR)) != 0) close_connection(*connection);
          continue;
        }
        on_readable(*connection);
      }
    }
    const int64_t now = now_ms();
    if (now - last_sweep >= kSweepMs) {
      last_sweep = now;
      expire_deadlines();
    }
  }
  for (std::unique_ptr<Connection>& slot : by_fd_) {
    if (slot) close_connection(*slot);
  }
  stop_listening();
}

}  // namespace omnirm::serve
