// HTTP heads: a valid request parses with its path, headers (found ignoring case) and
// keep-alive semantics; malformed request lines, header lines, versions and Content-Length
// values are refused with the status the server answers; responses serialise and parse back.
#include <gtest/gtest.h>

#include "omnirm/serve/http_message.h"

namespace omnirm::serve {
namespace {

TEST(HttpMessage, ParsesARequestHead) {
  const ParsedRequestHead parsed = parse_request_head(
      "POST /score?x=1 HTTP/1.1\r\nHost: localhost\r\ncontent-length:  12 \r\nX-Empty:");
  ASSERT_FALSE(parsed.error.has_value()) << parsed.error->message;
  EXPECT_EQ(parsed.request.method, "POST");
  EXPECT_EQ(parsed.request.target, "/score?x=1");
  EXPECT_EQ(parsed.request.path, "/score");
  ASSERT_NE(parsed.request.header("Content-Length"), nullptr);
  EXPECT_EQ(*parsed.request.header("CONTENT-LENGTH"), "12");
  ASSERT_NE(parsed.request.header("x-empty"), nullptr);
  EXPECT_EQ(*parsed.request.header("x-empty"), "");
  EXPECT_EQ(parsed.request.header("Accept"), nullptr);
  EXPECT_EQ(content_length(parsed.request.headers), 12);
  EXPECT_TRUE(parsed.request.wants_keep_alive());
}

TEST(HttpMessage, KeepAliveFollowsTheVersionAndConnectionHeader) {
  EXPECT_FALSE(
      parse_request_head("GET / HTTP/1.1\r\nConnection: close").request.wants_keep_alive());
  EXPECT_FALSE(parse_request_head("GET / HTTP/1.0").request.wants_keep_alive());
  EXPECT_TRUE(
      parse_request_head("GET / HTTP/1.0\r\nConnection: Keep-Alive").request.wants_keep_alive());
}

TEST(HttpMessage, RefusesMalformedHeads) {
  struct Case {
    const char* head;
    int status;
  };
  const Case cases[] = {
      {"HELLO", 400},
      {"GET", 400},
      {"GET /a b HTTP/1.1", 400},
      {"GET score HTTP/1.1", 400},
      {"G(T / HTTP/1.1", 400},
      {"GET / HTTP/2.0", 505},
      {"GET / FTP/1.0", 400},
      {"GET / HTTP/1.1\r\nNo colon here", 400},
      {"GET / HTTP/1.1\r\nBad Name: x", 400},
      {"GET / HTTP/1.1\r\n folded: x", 400},
  };
  for (const Case& c : cases) {
    const ParsedRequestHead parsed = parse_request_head(c.head);
    ASSERT_TRUE(parsed.error.has_value()) << c.head;
    EXPECT_EQ(parsed.error->status, c.status) << c.head;
    EXPECT_EQ(parsed.error->message.find('\n'), std::string::npos);
  }
  std::string many = "GET / HTTP/1.1";
  for (int i = 0; i < 101; ++i) many += "\r\nX-" + std::to_string(i) + ": y";
  ASSERT_TRUE(parse_request_head(many).error.has_value());
  EXPECT_EQ(parse_request_head(many).error->status, 431);
}

TEST(HttpMessage, ContentLengthMustBeOneNumber) {
  EXPECT_EQ(content_length({}), 0);
  EXPECT_EQ(content_length({{"Content-Length", "7"}, {"content-length", "7"}}), 7);
  EXPECT_FALSE(content_length({{"Content-Length", "7"}, {"Content-Length", "8"}}).has_value());
  EXPECT_FALSE(content_length({{"Content-Length", "-1"}}).has_value());
  EXPECT_FALSE(content_length({{"Content-Length", "12abc"}}).has_value());
  EXPECT_FALSE(content_length({{"Content-Length", ""}}).has_value());
  EXPECT_FALSE(content_length({{"Content-Length", "99999999999999999999"}}).has_value());
}

TEST(HttpMessage, ResponsesRoundTrip) {
  HttpResponse response = json_error(405, "wrong \"method\"\nhere");
  response.headers.push_back({"Allow", "POST"});
  const std::string bytes = serialize_response(response, /*keep_alive=*/false);
  const size_t head_end = bytes.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::optional<ResponseHead> head = parse_response_head(bytes.substr(0, head_end));
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->status, 405);
  EXPECT_EQ(*find_header(head->headers, "allow"), "POST");
  EXPECT_EQ(*find_header(head->headers, "connection"), "close");
  const std::string body = bytes.substr(head_end + 4);
  EXPECT_EQ(content_length(head->headers), static_cast<int64_t>(body.size()));
  // One JSON line: the newline in the message is escaped.
  EXPECT_EQ(body, R"({"error":"wrong \"method\"\nhere"})");
  EXPECT_FALSE(parse_response_head("HTTP/1.1 2x0 OK").has_value());
  EXPECT_FALSE(parse_response_head("SPDY 200 OK").has_value());
}

TEST(HttpMessage, RequestsCarryTheirBodyLength) {
  const std::string bytes = serialize_request("POST", "127.0.0.1", "/score", "{\"a\":1}");
  const size_t head_end = bytes.find("\r\n\r\n");
  const ParsedRequestHead parsed = parse_request_head(bytes.substr(0, head_end));
  ASSERT_FALSE(parsed.error.has_value());
  EXPECT_EQ(content_length(parsed.request.headers), 7);
  EXPECT_EQ(bytes.substr(head_end + 4), "{\"a\":1}");
  EXPECT_EQ(serialize_request("GET", "h", "/health", "").find("Content-Length"), std::string::npos);
}

}  // namespace
}  // namespace omnirm::serve
