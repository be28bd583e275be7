// A small HTTP/1.1 server on Linux epoll. One event-loop thread owns every socket: it accepts,
// reads and frames requests (serve/http_request_reader.h), enforces the deadlines and writes
// responses, never blocking on a client. Complete requests go to a pool of handler threads
// (the handler may block, e.g. waiting for rewards); their responses come back to the loop.
// So a slow or idle client holds one connection's buffer and no thread: thousands of idle or
// half-sent connections do not delay a request that arrives whole.
//
// Limits: open connections (beyond: 503 and close), complete requests waiting for a handler
// (beyond: 503), head and body sizes (431 / 413, from the connection layer), a deadline for a
// head from its first byte and one for a body from the end of its head (408), an idle timeout
// for kept-alive connections and a write timeout. A handler that throws answers 500; nothing
// a client sends stops the server. stop() stops accepting, answers every request already
// received, closes every connection and joins the threads.
//
// Why epoll directly and no event library: the loop is one file, Linux is the only target,
// and the GPU build profile, which has no package manager, needs no further library.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "omnirm/serve/http_message.h"
#include "omnirm/serve/http_request_reader.h"

namespace omnirm::serve {

struct HttpServerOptions {
  std::string host = "127.0.0.1";       // loopback unless told otherwise
  int port = 0;                         // 0: an ephemeral port (see HttpServer::port)
  int handler_threads = 8;              // requests handled at once
  int64_t max_connections = 4096;       // open at once; capped by the process's descriptor limit
  int64_t max_waiting_requests = 1024;  // complete requests waiting for a handler
  int64_t max_head_bytes = 16 * 1024;
  int64_t max_body_bytes = 16 * 1024 * 1024;
  int head_timeout_ms = 10000;   // from a head's first byte to its end
  int body_timeout_ms = 60000;   // from the end of a head to the end of its body
  int idle_timeout_ms = 60000;   // a kept-alive connection with no byte of a next request
  int write_timeout_ms = 30000;  // from a response's first byte to its last
};

// What the server has seen, for /health and the tests.
struct HttpServerStats {
  int64_t open_connections = 0;
  int64_t accepted = 0;
  int64_t refused_connections = 0;  // over max_connections
  int64_t requests = 0;             // complete requests handed to the handler
  int64_t timeouts = 0;             // 408s sent and idle or stalled connections closed
};

class HttpServer {
 public:
  using Handler = std::function<HttpResponse(const HttpRequest&)>;

  // Binds, listens and starts the threads; throws UserError naming host and port when the
  // address cannot be bound.
  HttpServer(const HttpServerOptions& options, Handler handler);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  int port() const { return port_; }  // the bound port (the ephemeral one when 0 was asked)
  const std::string& host() const { return options_.host; }
  // max_connections after the descriptor limit was taken into account.
  int64_t max_connections() const { return max_connections_; }
  HttpServerStats stats() const;

  // Stops accepting, answers requests already received, closes connections, joins threads.
  // Idempotent.
  void stop();

 private:
  struct Connection;
  // A connection is named by its descriptor and a number never reused, so a response that
  // comes back for a connection closed meanwhile (its descriptor perhaps reused) is dropped.
  struct Job {
    int fd = -1;
    uint64_t id = 0;
    HttpRequest request;
  };
  struct Done {
    int fd = -1;
    uint64_t id = 0;
    HttpResponse response;
    bool keep_alive = false;
  };

  void event_loop();
  void handler_loop();
  void accept_all();
  void on_readable(Connection& connection);
  void on_writable(Connection& connection);
  void after_read(Connection& connection);  // frames what is buffered and acts on it
  void respond(Connection& connection, const HttpResponse& response, bool keep_alive);
  void flush(Connection& connection);
  void watch(Connection& connection, uint32_t events);
  Connection* find(int fd, uint64_t id);
  void close_connection(Connection& connection);
  void stop_listening();
  void collect_done();
  void expire_deadlines();

  HttpServerOptions options_;
  Handler handler_;
  int64_t max_connections_ = 0;
  int listen_fd_ = -1;
  int epoll_fd_ = -1;
  int wake_fd_ = -1;  // eventfd: responses ready, or stop
  int port_ = 0;
  bool listening_paused_ = false;  // out of descriptors: accept again later
  int64_t paused_until_ms_ = 0;

  std::atomic<bool> stopping_{false};
  // Loop thread only.
  std::vector<std::unique_ptr<Connection>> by_fd_;  // index: fd
  int64_t open_connections_ = 0;
  uint64_t next_id_ = 1;
  int64_t in_handler_ = 0;  // requests queued for or held by a handler

  mutable std::mutex mutex_;  // guards jobs_, done_, stats_ and handlers_stop_
  std::condition_variable job_ready_;
  std::deque<Job> jobs_;
  std::deque<Done> done_;
  bool handlers_stop_ = false;
  HttpServerStats stats_;

  std::thread loop_;
  std::vector<std::thread> handlers_;
};

}  // namespace omnirm::serve
