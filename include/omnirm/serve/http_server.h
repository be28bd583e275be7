// A small HTTP/1.1 server on POSIX sockets: one thread accepts connections, a fixed pool of
// worker threads serves them (one connection per worker at a time, keep-alive honoured while
// no other connection waits for a worker), and one handler function answers every complete
// request. Malformed, oversized or slow requests get their 4xx from the connection layer
// and never reach the handler; a handler that throws answers 500; nothing a client sends
// stops the server. stop() ends accepting, lets requests in progress finish, and joins.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "omnirm/serve/http_message.h"

namespace omnirm::serve {

struct HttpServerOptions {
  std::string host = "127.0.0.1";  // loopback unless told otherwise
  int port = 0;                    // 0: an ephemeral port (see HttpServer::port)
  int threads = 8;                 // connection workers
  int64_t max_head_bytes = 16 * 1024;
  int64_t max_body_bytes = 1024 * 1024;
  int idle_timeout_ms = 10000;
  int request_timeout_ms = 30000;
  int64_t max_pending_connections = 1024;  // accepted but not yet served; beyond: 503
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

  // Stops accepting, answers requests already received, closes connections, joins threads.
  // Idempotent.
  void stop();

 private:
  void accept_loop();
  void worker_loop();
  void serve_connection(int fd);
  bool others_waiting();

  HttpServerOptions options_;
  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<int> pending_;  // accepted sockets waiting for a worker
  std::thread acceptor_;
  std::vector<std::thread> workers_;
};

}  // namespace omnirm::serve
