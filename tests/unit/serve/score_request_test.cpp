// The /score body: accepted shapes parse to the right turns; every malformed body is a
// BadRequest whose one-line message starts with the field at fault; tokenization gives the
// ids the training encoder gives the same pair, and over-long requests are refused by name.
#include <gtest/gtest.h>

#include "omnirm/data/pair_encoder.h"
#include "omnirm/serve/score_request.h"
#include "serve_test_support.h"

namespace omnirm::serve {
namespace {

std::string error_of(const std::string& body, const RequestLimits& limits = {}) {
  try {
    parse_score_request(body, limits);
  } catch (const BadRequest& error) {
    return error.what();
  }
  ADD_FAILURE() << "accepted: " << body;
  return "";
}

TEST(ScoreRequest, AcceptsAStringPromptOrTurns) {
  const ScoreRequest simple =
      parse_score_request(R"({"prompt": "why?", "responses": ["a", "b c"]})", {});
  ASSERT_EQ(simple.turns.size(), 1u);
  EXPECT_EQ(simple.turns[0].role, "user");
  EXPECT_EQ(simple.turns[0].text, "why?");
  EXPECT_EQ(simple.criteria, "");
  EXPECT_EQ(simple.responses, (std::vector<std::string>{"a", "b c"}));

  const ScoreRequest turns = parse_score_request(
      R"({"id": "q7", "criteria": "be brief",
          "prompt": [{"role": "user", "content": "hi"},
                     {"role": "assistant", "content": [{"type": "text", "text": "hello"}]},
                     {"role": "user", "content": [{"type": "text", "text": "a"},
                                                  {"type": "text", "text": "b"}]}],
          "responses": ["x"]})",
      {});
  EXPECT_EQ(turns.id, "q7");
  EXPECT_EQ(turns.criteria, "be brief");
  ASSERT_EQ(turns.turns.size(), 3u);
  EXPECT_EQ(turns.turns[1].role, "assistant");
  EXPECT_EQ(turns.turns[1].text, "hello");
  EXPECT_EQ(turns.turns[2].text, "ab");
}

TEST(ScoreRequest, MalformedBodiesNameTheField) {
  RequestLimits limits;
  limits.max_responses = 3;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "body: not valid JSON"},
      {"", "body: not valid JSON"},
      {"[1, 2]", "body: must be a JSON object"},
      {R"({"responses": ["a"]})", "prompt: missing"},
      {R"({"prompt": "p"})", "responses: missing"},
      {R"({"prompt": 5, "responses": ["a"]})", "prompt: must be a string or an array of turns"},
      {R"({"prompt": [], "responses": ["a"]})", "prompt: must hold at least one turn"},
      {R"({"prompt": ["hi"], "responses": ["a"]})", "prompt[0]: must be an object"},
      {R"({"prompt": [{"content": "hi"}], "responses": ["a"]})", "prompt[0].role: missing"},
      {R"({"prompt": [{"role": "user"}], "responses": ["a"]})", "prompt[0].content: missing"},
      {R"({"prompt": [{"role": "system", "content": "x"}], "responses": ["a"]})",
       "prompt[0].role: 'system' is not a role"},
      {R"({"prompt": [{"role": "user", "content": "q"}, {"role": "assistant", "content": "a"}],
           "responses": ["a"]})",
       "prompt[1].role: the last prompt turn must be a user turn"},
      {R"({"prompt": [{"role": "user", "content": [{"type": "image", "path": "a.png"}]}],
           "responses": ["a"]})",
       "prompt[0].content[0].type: 'image' parts are not served"},
      {R"({"prompt": [{"role": "user", "content": [{"type": "text"}]}], "responses": ["a"]})",
       "prompt[0].content[0].text: missing"},
      {R"({"prompt": "p", "responses": "a"})", "responses: must be an array of strings"},
      {R"({"prompt": "p", "responses": []})", "responses: must hold at least one response"},
      {R"({"prompt": "p", "responses": ["a", 3]})", "responses[1]: must be a string, got number"},
      {R"({"prompt": "p", "responses": ["a", "  "]})", "responses[1]: empty response"},
      {R"({"prompt": "p", "responses": ["a", "b", "c", "d"]})",
       "responses: 4 responses; at most 3"},
      {R"({"prompt": "p", "criteria": 1, "responses": ["a"]})", "criteria: must be a string"},
      {R"({"prompt": "p", "responses": ["a"], "reponses": 1})", "reponses: unknown field"},
      {std::string(100, '[') + std::string(100, ']'), "body: nested deeper than 32 levels"},
      {"\"\xff\"", "body: not valid JSON"},
  };
  for (const auto& [body, expected] : cases) {
    const std::string message = error_of(body, limits);
    EXPECT_EQ(message.rfind(expected, 0), 0u) << body << "\n  gave: " << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  // Brackets inside strings do not count as nesting.
  EXPECT_NO_THROW(parse_score_request(
      R"({"prompt": ")" + std::string(100, '[') + R"(", "responses": ["a"]})", limits));
}

TEST(ScoreRequest, TokensAreThoseOfTheTrainingEncoder) {
  const text::Tokenizer& tokenizer = testing::test_tokenizer();
  const ScoreRequest request = parse_score_request(
      R"({"criteria": "prefer the polite answer",
          "prompt": [{"role": "user", "content": "why is the sky blue?"},
                     {"role": "assistant", "content": "please explain"},
                     {"role": "user", "content": "the water is cold"}],
          "responses": ["a short polite reply.", "a long reply", "why"]})",
      {});
  const TokenizedRequest tokens = tokenize_score_request(request, tokenizer, {});
  ASSERT_EQ(tokens.responses.size(), 3u);

  data::Example example;
  example.criteria = request.criteria;
  for (const text::ChatTurn& turn : request.turns) {
    example.prompt.push_back(data::Turn{turn.role, {data::ContentPart{"text", turn.text, ""}}});
  }
  example.chosen = {data::ContentPart{"text", request.responses[0], ""}};
  example.rejected = {data::ContentPart{"text", request.responses[2], ""}};
  const data::PairEncoder encoder(tokenizer, 1024, text::TruncationPolicy::drop);
  data::EncodeCounts counts;
  const std::optional<text::PairTokens> pair = encoder.encode(example, counts);
  ASSERT_TRUE(pair.has_value());
  EXPECT_EQ(tokens.prompt, pair->prompt);
  EXPECT_EQ(tokens.responses[0], pair->chosen);
  EXPECT_EQ(tokens.responses[2], pair->rejected);
  EXPECT_EQ(tokens.tokens(),
            static_cast<int64_t>(tokens.prompt.size() + tokens.responses[0].size() +
                                 tokens.responses[1].size() + tokens.responses[2].size()));
}

TEST(ScoreRequest, OverLongRequestsAreRefusedByName) {
  const text::Tokenizer& tokenizer = testing::test_tokenizer();
  std::string long_response;
  for (int i = 0; i < 200; ++i) long_response += "the answer is helpful ";
  const ScoreRequest request = parse_score_request(
      R"({"prompt": "why?", "responses": ["short", ")" + long_response + R"("]})", {});
  RequestLimits limits;
  limits.max_length = 64;
  try {
    tokenize_score_request(request, tokenizer, limits);
    ADD_FAILURE() << "an over-long response was accepted";
  } catch (const BadRequest& error) {
    EXPECT_EQ(std::string(error.what()).rfind("responses[1]: prompt (", 0), 0u) << error.what();
    EXPECT_NE(std::string(error.what()).find("max_length of 64"), std::string::npos);
  }
  // Each response fits, but not all of them together in the batch budget.
  limits.max_length = 4096;
  const TokenizedRequest fits = tokenize_score_request(request, tokenizer, limits);
  limits.max_request_tokens = fits.tokens() - 1;
  try {
    tokenize_score_request(request, tokenizer, limits);
    ADD_FAILURE() << "a request over the batch budget was accepted";
  } catch (const BadRequest& error) {
    EXPECT_EQ(std::string(error.what()).rfind("responses: the request is", 0), 0u) << error.what();
    EXPECT_NE(std::string(error.what()).find("--max-batch-tokens"), std::string::npos);
  }
}

}  // namespace
}  // namespace omnirm::serve
