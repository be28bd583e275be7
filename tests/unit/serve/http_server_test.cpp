// The event-driven HTTP server on loopback: a thousand idle or half-sent connections do not
// delay a whole request; a head or body not complete by its deadline gets 408 and the
// connection closes; an idle kept-alive connection is closed quietly; connections beyond the
// cap get 503; a handler that throws gives 500; stop() answers what was received.
#include "omnirm/serve/http_server.h"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "omnirm/serve/http_client.h"

namespace omnirm::serve {
namespace {

using Clock = std::chrono::steady_clock;

// A connected loopback socket, or -1.
int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Everything the server sends until it closes or `timeout_ms` passes.
std::string read_until_closed(int fd, int timeout_ms) {
  std::string received;
  const Clock::time_point end = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (Clock::now() < end) {
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, 20) <= 0) continue;
    char chunk[4096];
    const ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n <= 0) break;
    received.append(chunk, static_cast<size_t>(n));
  }
  return received;
}

bool closed_by_peer(int fd, int timeout_ms) {
  pollfd entry{fd, POLLIN, 0};
  if (::poll(&entry, 1, timeout_ms) <= 0) return false;
  char byte;
  return ::recv(fd, &byte, 1, 0) == 0;
}

HttpResponse echo(const HttpRequest& request) {
  HttpResponse response;
  response.body = nlohmann::json{{"path", request.path}, {"bytes", request.body.size()}}.dump();
  if (request.path == "/throw") throw std::runtime_error("the handler failed");
  return response;
}

void raise_descriptor_limit() {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;
  ::setrlimit(RLIMIT_NOFILE, &limit);
}

TEST(HttpServer, AThousandIdleOrHalfSentConnectionsDoNotDelayAWholeRequest) {
  raise_descriptor_limit();
  HttpServerOptions options;
  options.handler_threads = 2;
  HttpServer server(options, echo);
  std::vector<int> held;
  const std::string request = "POST /score HTTP/1.1\r\nContent-Length: 20\r\n\r\n0123456789";
  for (int i = 0; i < 1000; ++i) {
    const int fd = connect_to(server.port());
    ASSERT_GE(fd, 0) << "connection " << i;
    // A third send nothing, a third half a head, a third a head and half a body.
    const std::string part = i % 3 == 0 ? "" : i % 3 == 1 ? request.substr(0, 20) : request;
    if (!part.empty()) ASSERT_GT(::send(fd, part.data(), part.size(), MSG_NOSIGNAL), 0);
    held.push_back(fd);
  }
  for (int i = 0; i < 100 && server.stats().open_connections < 1000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(server.stats().open_connections, 1000);
  std::vector<double> latencies_ms;
  for (int round = 0; round < 5; ++round) {
    HttpClient client("127.0.0.1", server.port(), 5000);
    const Clock::time_point sent = Clock::now();
    const HttpReply reply = client.request("POST", "/score", "{}");
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
    ASSERT_EQ(reply.status, 200) << reply.body;
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  EXPECT_LT(latencies_ms[2], 100.0) << "median of 5 requests, ms";
  for (const int fd : held) ::close(fd);
}

TEST(HttpServer, HeadsAndBodiesPastTheirDeadlineGet408) {
  HttpServerOptions options;
  options.head_timeout_ms = 200;
  options.body_timeout_ms = 300;
  options.idle_timeout_ms = 400;
  HttpServer server(options, echo);
  const int head = connect_to(server.port());
  const int body = connect_to(server.port());
  const int idle = connect_to(server.port());
  const std::string half_head = "POST /score HTTP/1.1\r\nConten";
  const std::string half_body = "POST /score HTTP/1.1\r\nContent-Length: 10\r\n\r\n01234";
  ::send(head, half_head.data(), half_head.size(), MSG_NOSIGNAL);
  ::send(body, half_body.data(), half_body.size(), MSG_NOSIGNAL);
  const Clock::time_point start = Clock::now();
  const std::string head_reply = read_until_closed(head, 3000);
  const double head_ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  EXPECT_EQ(head_reply.rfind("HTTP/1.1 408", 0), 0u) << head_reply;
  EXPECT_NE(head_reply.find("request head not complete within"), std::string::npos);
  EXPECT_GE(head_ms, 150.0);
  const std::string body_reply = read_until_closed(body, 3000);
  EXPECT_EQ(body_reply.rfind("HTTP/1.1 408", 0), 0u) << body_reply;
  EXPECT_NE(body_reply.find("request body not complete within"), std::string::npos);
  EXPECT_TRUE(closed_by_peer(idle, 3000)) << "an idle connection stays open";
  EXPECT_GE(server.stats().timeouts, 3);
  for (const int fd : {head, body, idle}) ::close(fd);
  // The server still answers.
  EXPECT_EQ(HttpClient("127.0.0.1", server.port()).request("GET", "/ok").status, 200);
}

TEST(HttpServer, ConnectionsOverTheCapGet503) {
  HttpServerOptions options;
  options.max_connections = 3;
  HttpServer server(options, echo);
  std::vector<int> held;
  for (int i = 0; i < 3; ++i) held.push_back(connect_to(server.port()));
  for (int i = 0; i < 100 && server.stats().open_connections < 3; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int extra = connect_to(server.port());
  const std::string refused = read_until_closed(extra, 3000);
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  EXPECT_NE(refused.find("too many open connections (3)"), std::string::npos);
  ::close(extra);
  EXPECT_EQ(server.stats().refused_connections, 1);
  ::close(held.back());
  held.pop_back();
  bool answered = false;
  for (int i = 0; i < 50 && !answered; ++i) {  // once the server has seen the close
    answered = HttpClient("127.0.0.1", server.port()).request("GET", "/ok").status == 200;
    if (!answered) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(answered);
  for (const int fd : held) ::close(fd);
}

TEST(HttpServer, AHandlerThatThrowsGives500AndTheServerGoesOn) {
  HttpServer server({}, echo);
  HttpClient client("127.0.0.1", server.port());
  const HttpReply failed = client.request("GET", "/throw");
  EXPECT_EQ(failed.status, 500);
  EXPECT_NE(failed.body.find("the handler failed"), std::string::npos);
  EXPECT_EQ(client.request("POST", "/after", "abc").status, 200);
}

TEST(HttpServer, LargeResponsesAndBodiesCrossTheLoopInPieces) {
  HttpServerOptions options;
  options.max_body_bytes = 8 << 20;
  HttpServer server(options, [](const HttpRequest& request) {
    HttpResponse response;
    response.body = std::string(request.body.rbegin(), request.body.rend());
    return response;
  });
  std::string body(5 << 20, 'a');
  for (size_t i = 0; i < body.size(); i += 4093) body[i] = static_cast<char>('b' + i % 20);
  const HttpReply reply = HttpClient("127.0.0.1", server.port()).request("POST", "/r", body);
  ASSERT_EQ(reply.status, 200);
  EXPECT_EQ(reply.body, std::string(body.rbegin(), body.rend()));
}

}  // namespace
}  // namespace omnirm::serve
