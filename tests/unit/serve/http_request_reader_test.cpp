// Framing requests out of a connection's bytes: one request in any chunking (down to one byte
// at a time) gives the same request; pipelined requests come out one by one; the limits and
// malformed heads are refused with their status from the head alone; 100-continue is asked
// for once.
#include "omnirm/serve/http_request_reader.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace omnirm::serve {
namespace {

using State = HttpRequestReader::State;

std::string post(const std::string& body, const std::string& extra = "") {
  return "POST /score HTTP/1.1\r\nHost: x\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST(HttpRequestReader, AnyChunkingGivesTheSameRequest) {
  const std::string body = R"({"prompt": "p", "responses": ["a"]})";
  const std::string bytes = "\r\n" + post(body);  // a stray empty line before it is allowed
  for (const size_t chunk : {size_t{1}, size_t{3}, size_t{17}, bytes.size()}) {
    HttpRequestReader reader({});
    State state = reader.state();
    EXPECT_EQ(state, State::idle);
    for (size_t at = 0; at < bytes.size(); at += chunk) {
      EXPECT_NE(state, State::complete) << "complete before the last byte, chunk " << chunk;
      reader.feed(std::string_view(bytes).substr(at, chunk));
      state = reader.state();
    }
    ASSERT_EQ(state, State::complete) << chunk;
    const HttpRequest request = reader.take();
    EXPECT_EQ(request.method, "POST");
    EXPECT_EQ(request.path, "/score");
    EXPECT_EQ(request.body, body);
    EXPECT_EQ(reader.state(), State::idle);
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(HttpRequestReader, PipelinedRequestsComeOutOneByOne) {
  HttpRequestReader reader({});
  reader.feed(post("first") + "GET /health HTTP/1.1\r\n\r\n" + post("third") + "GET /x HT");
  ASSERT_EQ(reader.state(), State::complete);
  EXPECT_EQ(reader.take().body, "first");
  ASSERT_EQ(reader.state(), State::complete);
  EXPECT_EQ(reader.take().path, "/health");
  ASSERT_EQ(reader.state(), State::complete);
  EXPECT_EQ(reader.take().body, "third");
  EXPECT_EQ(reader.state(), State::head);  // the start of a fourth
  reader.feed("TP/1.1\r\n\r\n");
  EXPECT_EQ(reader.state(), State::complete);
}

TEST(HttpRequestReader, StatesFollowHeadThenBody) {
  HttpRequestReader reader({});
  reader.feed("POST /score HTTP/1.1\r\nContent-Length: 4\r\n");
  EXPECT_EQ(reader.state(), State::head);
  reader.feed("\r\nab");
  EXPECT_EQ(reader.state(), State::body);
  reader.feed("cd");
  EXPECT_EQ(reader.state(), State::complete);
}

struct Refused {
  std::string bytes;
  int status;
  std::string message;  // the error starts with it
};

TEST(HttpRequestReader, RefusalsComeFromTheHeadAlone) {
  const FramingLimits limits{64, 100};
  const std::vector<Refused> cases = {
      {"GET /health HTTP/1.1\r\nX: " + std::string(100, 'y'), 431, "request head is over 64"},
      {std::string(65, 'G'), 431, "request head is over 64"},
      {"HELLO\r\n\r\n", 400, "malformed request line"},
      {"GET /h HTTP/2.0\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1"},
      {"POST /s HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413,
       "request body of 101 bytes is over the limit of 100"},
      {"POST /s HTTP/1.1\r\n\r\n", 411, "POST needs a Content-Length"},
      {"POST /s HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501, "Transfer-Encoding"},
      {"POST /s HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400, "malformed Content-Length"},
      {"POST /s HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400,
       "malformed Content-Length"},
  };
  for (const Refused& c : cases) {
    HttpRequestReader reader(limits);
    reader.feed(c.bytes);
    ASSERT_EQ(reader.state(), State::refused) << c.bytes;
    const HttpResponse& refusal = reader.refusal();
    EXPECT_EQ(refusal.status, c.status) << c.bytes;
    EXPECT_TRUE(refusal.close);
    const std::string message = nlohmann::json::parse(refusal.body).at("error");
    EXPECT_EQ(message.rfind(c.message, 0), 0u) << c.bytes << "\n  gave: " << message;
    reader.feed("more bytes");  // dropped: the connection is done
    EXPECT_EQ(reader.state(), State::refused);
    EXPECT_EQ(reader.buffered(), 0u);
  }
}

TEST(HttpRequestReader, ContinueIsAskedForOnceWhileTheBodyIsMissing) {
  HttpRequestReader reader({});
  reader.feed("POST /s HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  EXPECT_TRUE(reader.take_continue());
  EXPECT_FALSE(reader.take_continue());
  reader.feed("abc");
  EXPECT_EQ(reader.state(), State::complete);
  HttpRequestReader whole({});
  whole.feed("POST /s HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc");
  EXPECT_FALSE(whole.take_continue());  // the body is here already
  EXPECT_EQ(whole.state(), State::complete);
}

}  // namespace
}  // namespace omnirm::serve
