// The /score body: accepted shapes parse to the right turns and parts; every malformed body
// (media parts included: neither path nor data, a path that leaves the root, base64 that does
// not decode, inline media over the limit) is a BadRequest whose one-line message starts with
// the field at fault, with its status; tokenization gives the ids the training encoder gives
// the same pair, and over-long requests are refused by name.
#include <gtest/gtest.h>

#include "omnirm/data/pair_encoder.h"
#include "omnirm/serve/base64.h"
#include "omnirm/serve/request_encoder.h"
#include "omnirm/serve/score_request.h"
#include "serve_test_support.h"

namespace omnirm::serve {
namespace {

std::string error_of(const std::string& body, const RequestLimits& limits = {},
                     int expected_status = 400) {
  try {
    parse_score_request(body, limits);
  } catch (const BadRequest& error) {
    EXPECT_EQ(error.status(), expected_status) << error.what();
    return error.what();
  }
  ADD_FAILURE() << "accepted: " << body;
  return "";
}

std::string text_of(const std::vector<RequestPart>& parts) {
  std::string text;
  for (const RequestPart& part : parts) text += part.text;
  return text;
}

// The tokens of `request` as the server encodes them, for a text-only model.
infer::ScoringRow tokenize(const ScoreRequest& request, const RequestLimits& limits = {}) {
  const RequestEncoder encoder(Config{}, testing::test_tokenizer(), "", limits);
  return encoder.encode(request);
}

TEST(ScoreRequest, AcceptsAStringPromptOrTurns) {
  const ScoreRequest simple =
      parse_score_request(R"({"prompt": "why?", "responses": ["a", "b c"]})", {});
  ASSERT_EQ(simple.turns.size(), 1u);
  EXPECT_EQ(simple.turns[0].role, "user");
  EXPECT_EQ(text_of(simple.turns[0].content), "why?");
  EXPECT_EQ(simple.criteria, "");
  ASSERT_EQ(simple.responses.size(), 2u);
  EXPECT_EQ(text_of(simple.responses[0]), "a");
  EXPECT_EQ(text_of(simple.responses[1]), "b c");

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
  EXPECT_EQ(text_of(turns.turns[1].content), "hello");
  EXPECT_EQ(text_of(turns.turns[2].content), "ab");
}

TEST(ScoreRequest, MediaPartsByPathOrInlineInThePromptAndTheResponses) {
  RequestLimits limits;
  limits.media_paths = true;
  const std::string png = "\x89PNG\r\n\x1a\n fake bytes";
  const ScoreRequest request = parse_score_request(
      R"({"prompt": [{"role": "user", "content": [{"type": "image", "path": "a/b.png"},
                                                  {"type": "text", "text": "what is it?"}]}],
          "responses": ["a cube",
                        [{"type": "image", "data": ")" +
          encode_base64(png) + R"("}],
                        {"content": [{"type": "audio", "data": "data:audio/wav;base64,)" +
          encode_base64("RIFF") + R"("}]}]})",
      limits);
  const RequestPart& prompt_image = request.turns[0].content[0];
  EXPECT_EQ(prompt_image.type, "image");
  EXPECT_EQ(prompt_image.path, "a/b.png");
  EXPECT_EQ(prompt_image.field, "prompt[0].content[0]");
  EXPECT_EQ(request.responses[1][0].data, png);
  EXPECT_EQ(request.responses[1][0].field, "responses[1][0]");
  EXPECT_EQ(request.responses[2][0].data, "RIFF");
  EXPECT_EQ(request.responses[2][0].field, "responses[2].content[0]");
  const std::vector<MediaPartRef> media = media_parts(request);
  ASSERT_EQ(media.size(), 3u);
  EXPECT_EQ(media[0].segment, 0);
  EXPECT_EQ(media[1].segment, 2);
  EXPECT_EQ(media[2].segment, 3);
}

TEST(ScoreRequest, BadMediaPartsNameTheFieldAndTheirStatus) {
  RequestLimits limits;
  limits.media_paths = true;
  limits.max_media_bytes = 64;
  auto prompt_with = [](const std::string& part) {
    return R"({"prompt": [{"role": "user", "content": [)" + part + R"(]}], "responses": ["a"]})";
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {prompt_with(R"({"type": "image", "path": "/etc/passwd"})"),
       "prompt[0].content[0].path: absolute path '/etc/passwd' is not allowed"},
      {prompt_with(R"({"type": "image", "path": "a/../../secret.png"})"),
       "prompt[0].content[0].path: path 'a/../../secret.png' may leave --media-root"},
      {prompt_with(R"({"type": "image", "path": ""})"), "prompt[0].content[0].path: must not be"},
      {prompt_with(R"({"type": "image", "data": "not base64!"})"),
       "prompt[0].content[0].data: not valid base64 (at character 10)"},
      {prompt_with(R"({"type": "image", "data": "QU=JD"})"),
       "prompt[0].content[0].data: not valid base64 (at character 3)"},
      {prompt_with(R"({"type": "image", "data": "data:image/png,QUJD"})"),
       "prompt[0].content[0].data: a data URL must be"},
      {prompt_with(R"({"type": "image", "data": ""})"), "prompt[0].content[0].data: empty media"},
      {prompt_with(R"({"type": "image"})"), "prompt[0].content[0]: a media part needs one of"},
      {prompt_with(R"({"type": "image", "path": "a.png", "data": "QUJD"})"),
       "prompt[0].content[0]: a media part needs one of"},
      {prompt_with(R"({"type": "picture", "path": "a.png"})"),
       "prompt[0].content[0].type: 'picture' is not a part type"},
      {R"({"prompt": "p", "responses": [[{"type": "video", "path": "../v.mp4"}]]})",
       "responses[0][0].path: path '../v.mp4' may leave --media-root"},
      {R"({"prompt": "p", "responses": [{"text": "a"}]})", "responses[0].content: missing"},
      {R"({"prompt": "p", "responses": [[]]})", "responses[0]: empty response"},
  };
  for (const auto& [body, expected] : cases) {
    const std::string message = error_of(body, limits);
    EXPECT_EQ(message.rfind(expected, 0), 0u) << body << "\n  gave: " << message;
  }
  // Five characters leave a lone 6-bit group, which makes no byte.
  EXPECT_EQ(error_of(prompt_with(R"({"type": "image", "data": "QUJDR"})"), limits)
                .rfind("prompt[0].content[0].data: not valid base64 (at character 4)", 0),
            0u);
  // Over the media limit: 413, from the encoded size alone and from the decoded size.
  const std::string big = encode_base64(std::string(100, 'x'));
  EXPECT_EQ(
      error_of(prompt_with(R"({"type": "image", "data": ")" + big + R"("})"), limits, 413)
          .rfind("prompt[0].content[0].data: about 102 bytes of media, over the limit of 64", 0),
      0u);
  // Without a media root no path is read.
  limits.media_paths = false;
  EXPECT_NE(error_of(prompt_with(R"({"type": "image", "path": "a.png"})"), limits)
                .find("this server has no --media-root"),
            std::string::npos);
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
      {R"({"prompt": [{"role": "user", "content": [{"type": "text"}]}], "responses": ["a"]})",
       "prompt[0].content[0].text: missing"},
      {R"({"prompt": "p", "responses": "a"})", "responses: must be an array of responses"},
      {R"({"prompt": "p", "responses": []})", "responses: must hold at least one response"},
      {R"({"prompt": "p", "responses": ["a", 3]})",
       "responses[1]: must be a string, an array of content parts or {\"content\": ...}, got "
       "number"},
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
  const infer::ScoringRow tokens = tokenize(request);
  ASSERT_EQ(tokens.responses.size(), 3u);

  data::Example example;
  example.criteria = request.criteria;
  for (const RequestTurn& turn : request.turns) {
    example.prompt.push_back(
        data::Turn{turn.role, {data::ContentPart{"text", text_of(turn.content), ""}}});
  }
  example.chosen = {data::ContentPart{"text", text_of(request.responses[0]), ""}};
  example.rejected = {data::ContentPart{"text", text_of(request.responses[2]), ""}};
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
  std::string long_response;
  for (int i = 0; i < 200; ++i) long_response += "the answer is helpful ";
  const ScoreRequest request = parse_score_request(
      R"({"prompt": "why?", "responses": ["short", ")" + long_response + R"("]})", {});
  RequestLimits limits;
  limits.max_length = 64;
  try {
    tokenize(request, limits);
    ADD_FAILURE() << "an over-long response was accepted";
  } catch (const BadRequest& error) {
    EXPECT_EQ(std::string(error.what()).rfind("responses[1]: prompt (", 0), 0u) << error.what();
    EXPECT_NE(std::string(error.what()).find("max_length of 64"), std::string::npos);
  }
  // Each response fits, but not all of them together in the batch budget.
  limits.max_length = 4096;
  const infer::ScoringRow fits = tokenize(request, limits);
  limits.max_request_tokens = fits.tokens() - 1;
  try {
    tokenize(request, limits);
    ADD_FAILURE() << "a request over the batch budget was accepted";
  } catch (const BadRequest& error) {
    EXPECT_EQ(std::string(error.what()).rfind("responses: the request is", 0), 0u) << error.what();
    EXPECT_NE(std::string(error.what()).find("--max-batch-tokens"), std::string::npos);
  }
}

}  // namespace
}  // namespace omnirm::serve
