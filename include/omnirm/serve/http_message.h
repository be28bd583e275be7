// HTTP/1.1 messages as the reward server and its small client use them: parsing a request or
// response head (start line and headers, up to the blank line), header lookup ignoring case,
// the Content-Length of a head, and writing a response or request with a Content-Length body.
// Chunked bodies are not supported (a request that uses them is refused with 501).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace omnirm::serve {

struct HttpHeader {
  std::string name;
  std::string value;
};

// The value of header `name` (compared ignoring case), or nullptr when absent.
const std::string* find_header(const std::vector<HttpHeader>& headers, std::string_view name);

struct HttpRequest {
  std::string method;     // "GET", "POST", ... (case as sent; methods are case-sensitive)
  std::string target;     // as sent: path and query
  std::string path;       // target without its query
  int minor_version = 1;  // HTTP/1.<minor_version>
  std::vector<HttpHeader> headers;
  std::string body;

  const std::string* header(std::string_view name) const { return find_header(headers, name); }
  // HTTP/1.1 keeps the connection unless "Connection: close"; 1.0 closes unless keep-alive.
  bool wants_keep_alive() const;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<HttpHeader> headers;  // extra headers, e.g. Allow
  bool close = false;               // close the connection after this response
};

// A request head that cannot be served: the status to answer with and a one-line reason.
struct HeadError {
  int status = 400;
  std::string message;
};

struct ParsedRequestHead {
  HttpRequest request;  // body empty
  std::optional<HeadError> error;
};

// `head` is everything before the "\r\n\r\n" that ends the head.
ParsedRequestHead parse_request_head(std::string_view head);

struct ResponseHead {
  int status = 0;
  std::vector<HttpHeader> headers;
};

// The head of a response (status line and headers); nullopt when malformed.
std::optional<ResponseHead> parse_response_head(std::string_view head);

// The body length a head announces: 0 when there is no Content-Length, nullopt when the
// header is malformed or repeated with different values.
std::optional<int64_t> content_length(const std::vector<HttpHeader>& headers);

// "OK", "Bad Request", ... ("Unknown" for codes this server never sends).
const char* reason_phrase(int status);

// Status line, Content-Type, Content-Length, Connection and the extra headers, then the body.
std::string serialize_response(const HttpResponse& response, bool keep_alive);

// A request with a Content-Length body (none when `body` is empty and the method is GET).
std::string serialize_request(const std::string& method, const std::string& host,
                              const std::string& target, const std::string& body);

// {"error": message} with `status`.
HttpResponse json_error(int status, const std::string& message);

}  // namespace omnirm::serve
