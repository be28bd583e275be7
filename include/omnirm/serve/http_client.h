// A small blocking HTTP/1.1 client for the server's benchmark and tests: one kept-alive
// connection, reopened when the server has closed it; bodies framed by Content-Length.
#pragma once

#include <string>
#include <vector>

#include "omnirm/serve/http_message.h"

namespace omnirm::serve {

struct HttpReply {
  int status = 0;
  std::vector<HttpHeader> headers;
  std::string body;
};

class HttpClient {
 public:
  // Connects lazily, to host:port (an IPv4 or IPv6 address or a name).
  HttpClient(std::string host, int port, int timeout_ms = 60000);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Sends one request and reads its reply. A kept-alive connection that the server closed
  // meanwhile is reopened and the request sent once more. Throws std::runtime_error when the
  // server cannot be reached or answers with something that is not HTTP.
  HttpReply request(const std::string& method, const std::string& target,
                    const std::string& body = "");

  // Sends `bytes` as they are on a fresh connection and reads one reply (tests of malformed
  // requests); a send the server cut short still reads what it answered.
  HttpReply send_raw(const std::string& bytes);

  void close();

 private:
  void connect();
  bool send_bytes(const std::string& bytes);
  // Reads one reply; nullopt-like status 0 when the connection closed before any byte.
  HttpReply read_reply();

  std::string host_;
  int port_;
  int timeout_ms_;
  int fd_ = -1;
  std::string buffer_;
};

}  // namespace omnirm::serve
