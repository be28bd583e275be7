// The reward server over real sockets on an ephemeral loopback port, with a tiny model:
// concurrent clients get the rewards of their own requests; every kind of bad request gets
// its 4xx and a one-line JSON error naming the field, and the server keeps answering after
// each; a full queue gives 503; clients that vanish mid-request do no harm; a thousand idle
// or half-sent connections do not delay a score request; kept-alive and pipelined requests
// are answered in order; stop() answers requests already received.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "omnirm/core/error.h"
#include "omnirm/infer/scoring_rows.h"
#include "omnirm/serve/http_client.h"
#include "omnirm/serve/request_encoder.h"
#include "omnirm/serve/reward_server.h"
#include "serve_test_support.h"

namespace omnirm::serve {
namespace {

using nlohmann::json;

class RewardServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    model_ = testing::tiny_model(testing::test_tokenizer().vocab_size(), 21);
    options_.port = 0;
    options_.max_length = 96;
    options_.max_responses = 4;
    options_.max_batch_tokens = 512;
    options_.max_request_bytes = 4096;
  }
  void start(BatchScorer scorer = nullptr) {
    if (!scorer) scorer = model_scorer(*model_, std::nullopt, at::Device(at::kCPU));
    server_ = std::make_unique<RewardServer>(options_, Config{}, testing::test_tokenizer(),
                                             std::move(scorer), "tiny");
  }
  HttpClient client() { return HttpClient("127.0.0.1", server_->port(), 20000); }

  // The rewards the model gives `body` scored on its own, without the server.
  std::vector<float> direct(const std::string& body) {
    RequestLimits limits;
    limits.max_length = options_.max_length;
    limits.max_responses = options_.max_responses;
    const RequestEncoder encoder(Config{}, testing::test_tokenizer(), "", limits);
    const TokenizedRequest tokens = encoder.encode(parse_score_request(body, limits));
    return infer::score_rows(*model_, {&tokens}, std::nullopt, at::Device(at::kCPU))[0];
  }

  void expect_rewards(const HttpReply& reply, const std::vector<float>& expected) {
    ASSERT_EQ(reply.status, 200) << reply.body;
    const std::vector<float> got = json::parse(reply.body).at("rewards").get<std::vector<float>>();
    ASSERT_EQ(got.size(), expected.size()) << reply.body;
    for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], 1e-5) << i;
  }

  // The server still answers: health and a real score request.
  void expect_alive() {
    HttpClient c = client();
    const HttpReply health = c.request("GET", "/health");
    ASSERT_EQ(health.status, 200) << health.body;
    EXPECT_EQ(json::parse(health.body).at("status"), "ok");
    const std::string body =
        R"({"prompt": "why is the sky blue?", "responses": ["the sky", "water"]})";
    expect_rewards(c.request("POST", "/score", body), direct(body));
  }

  model::RewardModel model_{nullptr};
  ServeOptions options_;
  std::unique_ptr<RewardServer> server_;
};

std::string body_of(int i) {
  const std::vector<std::string> words = {"the answer", "is helpful", "polite reply",   "why",
                                          "cold water", "blue sky",   "safe and honest"};
  json request = {{"prompt", "please explain " + words[i % words.size()]},
                  {"responses", json::array()}};
  for (int r = 0; r <= i % 4; ++r) {
    request["responses"].push_back(words[(i + r * 3) % words.size()] + " " + std::to_string(r));
  }
  if (i % 2 == 0) request["criteria"] = "prefer the " + words[(i + 1) % words.size()];
  return request.dump();
}

TEST_F(RewardServerTest, ConcurrentClientsGetTheirOwnRewards) {
  start();
  constexpr int kClients = 6, kPerClient = 5;
  std::vector<std::vector<float>> expected;
  for (int i = 0; i < kClients * kPerClient; ++i) expected.push_back(direct(body_of(i)));
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      HttpClient http = client();
      for (int k = 0; k < kPerClient; ++k) {
        const int i = c * kPerClient + k;
        expect_rewards(http.request("POST", "/score", body_of(i)), expected[i]);
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(server_->stats().requests, kClients * kPerClient);
  const HttpReply echoed =
      client().request("POST", "/score", R"({"id": "q-1", "prompt": "why", "responses": ["a"]})");
  EXPECT_EQ(json::parse(echoed.body).at("id"), "q-1");
}

struct BadCase {
  std::string raw;  // the whole request as sent
  int status;
  std::string expected;  // the error message starts with this
};

std::string post(const std::string& body, const std::string& path = "/score") {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

TEST_F(RewardServerTest, BadRequestsGetTheir4xxAndTheServerKeepsAnswering) {
  start();
  std::string long_text;
  for (int i = 0; i < 100; ++i) long_text += "the answer is helpful ";
  const std::vector<BadCase> cases = {
      {post("{\"prompt\": \"p\", "), 400, "body: not valid JSON"},
      {post("[1]"), 400, "body: must be a JSON object"},
      {post(R"({"prompt": 3, "responses": ["a"]})"), 400, "prompt: must be a string or an array"},
      {post(R"({"prompt": "p"})"), 400, "responses: missing"},
      {post(R"({"prompt": "p", "responses": "a"})"), 400, "responses: must be an array"},
      {post(R"({"prompt": "p", "responses": ["a", {"x": 1}]})"), 400,
       "responses[1].content: missing"},
      {post(R"({"prompt": "p", "responses": ["a", 7]})"), 400,
       "responses[1]: must be a string, an array of content parts"},
      {post(R"({"prompt": "p", "responses": ["a", "b", "c", "d", "e"]})"), 400,
       "responses: 5 responses; at most 4"},
      {post(R"({"prompt": "p", "responses": ["a", ")" + long_text + "\"]}"), 400,
       "responses[1]: prompt ("},
      {post(R"({"prompt": [{"role": "user", "content": [{"type": "video", "path": "v.mp4"}]}],
                "responses": ["a"]})"),
       400, "prompt[0].content[0].path: this server has no --media-root"},
      {post(R"({"prompt": [{"role": "user", "content": [{"type": "image", "data": "QUJD"}]}],
                "responses": ["a"]})"),
       400, "prompt[0].content[0]: this model has no media adapter"},
      {post(R"({"query": ["no template here"]})", "/get_reward"), 400,
       "query[0]: not a ChatML conversation"},
      {post(R"({"prompt": "p", "responses": ["a"], "temperature": 1})"), 400,
       "temperature: unknown field"},
      {post(std::string(3000, '[')), 400, "body: nested deeper than 32 levels"},
      {post("{\"prompt\": \"" + std::string(5000, 'x') + "\", \"responses\": [\"a\"]}"), 413,
       "request body of 5034 bytes is over the limit of 4096 bytes"},
      {"POST /score HTTP/1.1\r\nContent-Length: 100000000\r\n\r\n", 413, "request body of"},
      {post(R"({"prompt": "p", "responses": ["a"]})", "/nope"), 404, "no endpoint /nope"},
      {"GET /score HTTP/1.1\r\n\r\n", 405, "/score takes POST"},
      {post("{}", "/health"), 405, "/health takes GET"},
      {"POST /score HTTP/1.1\r\nHost: x\r\n\r\n", 411, "POST needs a Content-Length"},
      {"POST /score HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 501,
       "Transfer-Encoding is not supported"},
      {"POST /score HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", 400, "malformed Content-Length"},
      {"HELLO\r\n\r\n", 400, "malformed request line"},
      {"GET /health HTTP/3.0\r\n\r\n", 505, "only HTTP/1.0 and HTTP/1.1"},
      {"GET /health HTTP/1.1\r\nX-Big: " + std::string(20000, 'y') + "\r\n\r\n", 431,
       "request head is over"},
  };
  for (const BadCase& c : cases) {
    const HttpReply reply = client().send_raw(c.raw);
    EXPECT_EQ(reply.status, c.status) << c.raw.substr(0, 200) << "\n" << reply.body;
    ASSERT_FALSE(reply.body.empty()) << c.raw.substr(0, 200);
    const std::string message = json::parse(reply.body).at("error").get<std::string>();
    EXPECT_EQ(message.rfind(c.expected, 0), 0u) << c.raw.substr(0, 200) << "\n  gave: " << message;
    EXPECT_EQ(reply.body.find('\n'), std::string::npos);
    if (c.status == 405) {
      EXPECT_NE(find_header(reply.headers, "Allow"), nullptr);
    }
    expect_alive();
  }
}

TEST_F(RewardServerTest, ClientsThatVanishMidRequestDoNoHarm) {
  start();
  auto send_and_close = [&](const std::string& bytes) {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(server_->port()));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    ASSERT_EQ(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(bytes.size()));
    ::close(fd);
  };
  const std::string full = post(R"({"prompt": "p", "responses": ["a", "b"]})");
  send_and_close("");                               // connects and leaves
  send_and_close("POST /score HTTP/1.1\r\nConte");  // leaves in the head
  send_and_close(full.substr(0, full.size() - 5));  // leaves in the body
  send_and_close(full);                             // leaves before the reply
  expect_alive();
  // The abandoned full request was still scored (its reply had nowhere to go).
  for (int i = 0; i < 100 && server_->stats().requests < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_EQ(server_->stats().requests, 2);
}

TEST_F(RewardServerTest, PipelinedRequestsAreAnsweredInOrder) {
  start();
  const std::string a = body_of(1), b = body_of(2);
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(server_->port()));
  ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  const std::string both = post(a) + post(b) + "GET /health HTTP/1.1\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, both.data(), both.size(), MSG_NOSIGNAL), static_cast<ssize_t>(both.size()));
  std::string received;
  char chunk[4096];
  for (ssize_t n; (n = ::recv(fd, chunk, sizeof(chunk), 0)) > 0;) received.append(chunk, n);
  ::close(fd);
  // Three replies back to back; the last one closes the connection.
  std::vector<std::string> bodies;
  size_t at = 0;
  while (at < received.size()) {
    const size_t head_end = received.find("\r\n\r\n", at);
    ASSERT_NE(head_end, std::string::npos) << received;
    const auto head = parse_response_head(received.substr(at, head_end - at));
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->status, 200);
    const int64_t length = content_length(head->headers).value();
    bodies.push_back(received.substr(head_end + 4, static_cast<size_t>(length)));
    at = head_end + 4 + static_cast<size_t>(length);
  }
  ASSERT_EQ(bodies.size(), 3u);
  expect_rewards(HttpReply{200, {}, bodies[0]}, direct(a));
  expect_rewards(HttpReply{200, {}, bodies[1]}, direct(b));
  EXPECT_EQ(json::parse(bodies[2]).at("status"), "ok");
}

TEST_F(RewardServerTest, AFullQueueAnswers503AndQueuedRequestsAreBatched) {
  options_.max_queue = 2;
  testing::GatedScorer gate(model_scorer(*model_, std::nullopt, at::Device(at::kCPU)));
  start(gate.scorer());
  std::vector<std::string> bodies = {body_of(0), body_of(1), body_of(2)};
  std::vector<HttpReply> replies(3);
  std::vector<std::thread> clients;
  clients.emplace_back([&] { replies[0] = client().request("POST", "/score", bodies[0]); });
  gate.wait_for_batches(1);  // request 0 is with the model
  for (int i = 1; i < 3; ++i) {
    clients.emplace_back([&, i] { replies[i] = client().request("POST", "/score", bodies[i]); });
  }
  while (server_->stats().queued < 2) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  const HttpReply refused = client().request("POST", "/score", body_of(3));
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(json::parse(refused.body).at("error").get<std::string>().rfind("queue full", 0), 0u);
  gate.open();
  for (std::thread& t : clients) t.join();
  for (int i = 0; i < 3; ++i) expect_rewards(replies[i], direct(bodies[i]));
  EXPECT_EQ(server_->stats().largest_batch, 2);  // the two queued requests, one forward
  expect_alive();
}

TEST_F(RewardServerTest, StopAnswersRequestsAlreadyReceived) {
  testing::GatedScorer gate(model_scorer(*model_, std::nullopt, at::Device(at::kCPU)));
  start(gate.scorer());
  const std::string body = body_of(5);
  HttpReply reply;
  std::thread waiting([&] { reply = client().request("POST", "/score", body); });
  gate.wait_for_batches(1);
  const int port = server_->port();
  std::thread stopper([&] { server_->stop(); });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // stop() has begun by now
  gate.open();
  stopper.join();
  waiting.join();
  expect_rewards(reply, direct(body));
  HttpClient after("127.0.0.1", port, 2000);
  EXPECT_THROW(after.request("GET", "/health"), std::runtime_error);  // no longer listening
}

TEST_F(RewardServerTest, AThousandStalledConnectionsDoNotDelayAScoreRequest) {
  rlimit limit{};
  ::getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = limit.rlim_max;  // 1000 connections here and 1000 in the server
  ::setrlimit(RLIMIT_NOFILE, &limit);
  start();
  const std::string body = body_of(3);
  const std::vector<float> expected = direct(body);
  const std::string whole = post(body);
  std::vector<int> held;
  for (int i = 0; i < 1000; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(static_cast<uint16_t>(server_->port()));
    ::inet_pton(AF_INET, "127.0.0.1", &address.sin_addr);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0) << i;
    // Half idle, half stopped in the middle of their head.
    if (i % 2 == 1) ASSERT_GT(::send(fd, whole.data(), 30, MSG_NOSIGNAL), 0);
    held.push_back(fd);
  }
  for (int i = 0; i < 200 && server_->http_stats().open_connections < 1000; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(server_->http_stats().open_connections, 1000);
  std::vector<double> latencies_ms;
  for (int round = 0; round < 5; ++round) {  // bounded: five requests, then the test ends
    HttpClient fresh = client();
    const auto sent = std::chrono::steady_clock::now();
    const HttpReply reply = fresh.request("POST", "/score", body);
    latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - sent).count());
    expect_rewards(reply, expected);
  }
  std::sort(latencies_ms.begin(), latencies_ms.end());
  EXPECT_LT(latencies_ms[2], 100.0) << "median of five score requests, ms";
  for (const int fd : held) ::close(fd);
}

TEST_F(RewardServerTest, OptionsThatCannotWorkAreRefusedByFlag) {
  options_.max_batch_tokens = 50;  // below max_length 96
  EXPECT_THROW(start(), UserError);
  try {
    check_serve_options(options_);
  } catch (const UserError& error) {
    EXPECT_EQ(std::string(error.what()).rfind("--max-batch-tokens 50", 0), 0u) << error.what();
  }
  options_.max_batch_tokens = 512;
  options_.max_responses = 200;
  EXPECT_THROW(check_serve_options(options_), UserError);
  options_.max_responses = 4;
  options_.host = "not a host";
  EXPECT_THROW(start(), UserError);
}

}  // namespace
}  // namespace omnirm::serve
