// Implementation of serve/http_message.h: strict parsing of what a head must be (request
// line, one "name: value" per line), lenient only about surrounding whitespace in values.
#include "omnirm/serve/http_message.h"

#include <nlohmann/json.hpp>

#include <cctype>

namespace omnirm::serve {
namespace {

constexpr size_t kMaxHeaders = 100;

bool equals_ignoring_case(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// RFC 9110 token characters (method and header names).
bool is_token_char(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  const std::string_view extra = "!#$%&'*+-.^_`|~";
  return extra.find(c) != std::string_view::npos;
}

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_token_char(c)) return false;
  }
  return true;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
  return text;
}

// Splits `head` at "\r\n"; the first line is the start line.
std::vector<std::string_view> split_lines(std::string_view head) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start <= head.size()) {
    const size_t end = head.find("\r\n", start);
    if (end == std::string_view::npos) {
      lines.push_back(head.substr(start));
      break;
    }
    lines.push_back(head.substr(start, end - start));
    start = end + 2;
  }
  return lines;
}

// Parses the header lines after the start line into `headers`; returns an error message.
std::optional<HeadError> parse_header_lines(const std::vector<std::string_view>& lines,
                                            std::vector<HttpHeader>& headers) {
  if (lines.size() - 1 > kMaxHeaders) {
    return HeadError{431, "more than " + std::to_string(kMaxHeaders) + " header lines"};
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos || !is_token(line.substr(0, colon))) {
      return HeadError{400, "malformed header line " + std::to_string(i) +
                                ": expected 'Name: value' with no space before the colon"};
    }
    headers.push_back(
        HttpHeader{std::string(line.substr(0, colon)), std::string(trim(line.substr(colon + 1)))});
  }
  return std::nullopt;
}

}  // namespace

const std::string* find_header(const std::vector<HttpHeader>& headers, std::string_view name) {
  for (const HttpHeader& header : headers) {
    if (equals_ignoring_case(header.name, name)) return &header.value;
  }
  return nullptr;
}

bool HttpRequest::wants_keep_alive() const {
  const std::string* connection = header("Connection");
  if (connection != nullptr && equals_ignoring_case(trim(*connection), "close")) return false;
  if (minor_version >= 1) return true;
  return connection != nullptr && equals_ignoring_case(trim(*connection), "keep-alive");
}

ParsedRequestHead parse_request_head(std::string_view head) {
  ParsedRequestHead parsed;
  HttpRequest& request = parsed.request;
  const std::vector<std::string_view> lines = split_lines(head);
  const std::string_view start = lines.front();
  const size_t first_space = start.find(' ');
  const size_t last_space = start.rfind(' ');
  if (first_space == std::string_view::npos || first_space == last_space) {
    parsed.error = HeadError{400, "malformed request line: expected 'METHOD /path HTTP/1.1'"};
    return parsed;
  }
  const std::string_view method = start.substr(0, first_space);
  const std::string_view target = start.substr(first_space + 1, last_space - first_space - 1);
  const std::string_view version = start.substr(last_space + 1);
  if (!is_token(method) || target.empty() || target.front() != '/' ||
      target.find(' ') != std::string_view::npos) {
    parsed.error = HeadError{400, "malformed request line: expected 'METHOD /path HTTP/1.1'"};
    return parsed;
  }
  if (version == "HTTP/1.1") {
    request.minor_version = 1;
  } else if (version == "HTTP/1.0") {
    request.minor_version = 0;
  } else if (version.substr(0, 5) == "HTTP/") {
    parsed.error = HeadError{505, "only HTTP/1.0 and HTTP/1.1 are served"};
    return parsed;
  } else {
    parsed.error = HeadError{400, "malformed request line: expected 'METHOD /path HTTP/1.1'"};
    return parsed;
  }
  request.method = std::string(method);
  request.target = std::string(target);
  request.path = std::string(target.substr(0, target.find('?')));
  parsed.error = parse_header_lines(lines, request.headers);
  return parsed;
}

std::optional<ResponseHead> parse_response_head(std::string_view head) {
  const std::vector<std::string_view> lines = split_lines(head);
  const std::string_view start = lines.front();
  // "HTTP/1.1 200 OK"
  if (start.size() < 12 || start.substr(0, 7) != "HTTP/1." || start[8] != ' ') return std::nullopt;
  int status = 0;
  for (size_t i = 9; i < 12; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(start[i]))) return std::nullopt;
    status = status * 10 + (start[i] - '0');
  }
  ResponseHead response;
  response.status = status;
  if (parse_header_lines(lines, response.headers)) return std::nullopt;
  return response;
}

std::optional<int64_t> content_length(const std::vector<HttpHeader>& headers) {
  std::optional<int64_t> length;
  for (const HttpHeader& header : headers) {
    if (!equals_ignoring_case(header.name, "Content-Length")) continue;
    const std::string_view value = trim(header.value);
    if (value.empty() || value.size() > 18) return std::nullopt;
    int64_t parsed = 0;
    for (char c : value) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
      parsed = parsed * 10 + (c - '0');
    }
    if (length && *length != parsed) return std::nullopt;
    length = parsed;
  }
  return length.value_or(0);
}

const char* reason_phrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Content Too Large";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return "Unknown";
  }
}

std::string serialize_response(const HttpResponse& response, bool keep_alive) {
  std::string out =
      "HTTP/1.1 " + std::to_string(response.status) + " " + reason_phrase(response.status) + "\r\n";
  out += "Content-Type: " + response.content_type + "\r\n";
  out += "Content-Length: " + std::to_string(response.body.size()) + "\r\n";
  out += keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n";
  for (const HttpHeader& header : response.headers) {
    out += header.name + ": " + header.value + "\r\n";
  }
  out += "\r\n";
  out += response.body;
  return out;
}

std::string serialize_request(const std::string& method, const std::string& host,
                              const std::string& target, const std::string& body) {
  std::string out = method + " " + target + " HTTP/1.1\r\nHost: " + host + "\r\n";
  if (!body.empty() || method != "GET") {
    out +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  out += "\r\n";
  out += body;
  return out;
}

HttpResponse json_error(int status, const std::string& message) {
  HttpResponse response;
  response.status = status;
  // Invalid UTF-8 from a request (quoted in a message) is replaced, never thrown on.
  response.body = nlohmann::json{{"error", message}}.dump(-1, ' ', false,
                                                          nlohmann::json::error_handler_t::replace);
  return response;
}

}  // namespace omnirm::serve
