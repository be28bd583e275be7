// OpenRLHF's remote reward model requests: ChatML queries (as OpenRLHF decodes rollouts of a
// Qwen-style policy, end-of-turn and padding tokens kept) split back into criteria, turns and
// response; other layouts split at their prompt; queries of one prompt share a request; every
// malformed body names its field.
#include "omnirm/serve/openrlhf_request.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace omnirm::serve {
namespace {

using nlohmann::json;

std::string text_of(const std::vector<RequestPart>& parts) {
  std::string text;
  for (const RequestPart& part : parts) text += part.text;
  return text;
}

std::string chatml(const std::string& system, const std::string& user,
                   const std::string& response) {
  std::string out;
  if (!system.empty()) out += "<|im_start|>system\n" + system + "<|im_end|>\n";
  return out + "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n" + response;
}

TEST(OpenrlhfRequest, ChatmlQueriesSplitIntoCriteriaTurnsAndResponse) {
  const json body = {
      {"query",
       {chatml("Prefer brevity.", "What is 2+2?", "4<|im_end|>"),
        chatml("Prefer brevity.", "What is 2+2?",
               "It is four.<|im_end|>\n<|endoftext|><|endoftext|>"),
        chatml("", "Name a colour.", "Red, mostly"),  // cut at the length limit: no end token
        "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n"
        "<|im_start|>user\nhow are you?\n<|im_end|>\n<|im_start|>assistant\nfine\n<|im_end|>"}},
      {"prompts", {"p0", "p1", "p2", "p3"}},
      {"labels", {"", "", "", ""}}};
  const RewardQueries queries = parse_reward_queries(body.dump(), {});
  ASSERT_EQ(queries.requests.size(), 3u);  // the first two share their prompt
  const ScoreRequest& arithmetic = queries.requests[0];
  EXPECT_EQ(arithmetic.criteria, "Prefer brevity.");
  ASSERT_EQ(arithmetic.turns.size(), 1u);
  EXPECT_EQ(arithmetic.turns[0].role, "user");
  EXPECT_EQ(text_of(arithmetic.turns[0].content), "What is 2+2?");
  ASSERT_EQ(arithmetic.responses.size(), 2u);
  EXPECT_EQ(text_of(arithmetic.responses[0]), "4");
  EXPECT_EQ(text_of(arithmetic.responses[1]), "It is four.");
  EXPECT_EQ(queries.requests[1].criteria, "");
  EXPECT_EQ(text_of(queries.requests[1].responses[0]), "Red, mostly");
  const ScoreRequest& multi = queries.requests[2];
  ASSERT_EQ(multi.turns.size(), 3u);
  EXPECT_EQ(multi.turns[1].role, "assistant");
  EXPECT_EQ(text_of(multi.turns[1].content), "hello");
  EXPECT_EQ(text_of(multi.turns[2].content), "how are you?\n");  // its own whitespace kept
  EXPECT_EQ(text_of(multi.responses[0]), "fine\n");
  const std::vector<std::pair<size_t, size_t>> where = {{0, 0}, {0, 1}, {1, 0}, {2, 0}};
  EXPECT_EQ(queries.where, where);
}

TEST(OpenrlhfRequest, OtherTemplatesSplitAtThePrompt) {
  const std::string prompt = "<|start_header_id|>user<|end_header_id|>\n\nQ?<|eot_id|>";
  const json body = {{"query", {prompt + "an answer<|endoftext|>"}}, {"prompts", {prompt}}};
  const RewardQueries queries = parse_reward_queries(body.dump(), {});
  ASSERT_EQ(queries.requests.size(), 1u);
  EXPECT_EQ(text_of(queries.requests[0].turns[0].content), prompt);
  EXPECT_EQ(text_of(queries.requests[0].responses[0]), "an answer");
}

TEST(OpenrlhfRequest, QueriesOfOnePromptAreSplitAtTheResponseLimit) {
  RequestLimits limits;
  limits.max_responses = 2;
  json query = json::array();
  for (int i = 0; i < 5; ++i) query.push_back(chatml("", "same", "r" + std::to_string(i)));
  const RewardQueries queries = parse_reward_queries(json{{"query", query}}.dump(), limits);
  ASSERT_EQ(queries.requests.size(), 3u);
  EXPECT_EQ(queries.requests[0].responses.size(), 2u);
  EXPECT_EQ(queries.requests[2].responses.size(), 1u);
  EXPECT_EQ(queries.where.back(), (std::pair<size_t, size_t>{2, 0}));
}

TEST(OpenrlhfRequest, MalformedBodiesNameTheField) {
  RequestLimits limits;
  limits.max_responses = 1;
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"nope", "body: not valid JSON"},
      {R"({"queries": ["a"]})", "query: missing"},
      {R"({"query": "a"})", "query: must be an array"},
      {R"({"query": []})", "query: must hold at least one"},
      {R"({"query": [1]})", "query[0]: must be a string"},
      {json{{"query", json::array({"a", "b", "c", "d", "e", "f", "g", "h", "i"})}}.dump(),
       "query: 9 queries; at most 8"},
      {R"({"query": ["plain text"]})", "query[0]: not a ChatML conversation"},
      {R"({"query": ["plain text"], "prompts": ["other"]})",
       "query[0]: does not start with prompts[0]"},
      {R"({"query": ["a", "b"], "prompts": ["a"]})", "prompts: must be an array of strings, one"},
      {R"({"query": ["a"], "labels": 3})", "labels: must be an array"},
      {json{{"query", {chatml("", "q", "<|im_end|>")}}}.dump(), "query[0]: empty response"},
      {json{{"query", {"<|im_start|>assistant\nhi<|im_end|>\n<|im_start|>assistant\nx"}}}.dump(),
       "query[0]: the turn before the response must be the user's"},
      {json{{"query",
             {"<|im_start|>tool\nx<|im_end|>\n<|im_start|>user\nq<|im_end|>\n"
              "<|im_start|>assistant\nx"}}}
           .dump(),
       "query[0]: a turn of role 'tool'"},
  };
  for (const auto& [body, expected] : cases) {
    try {
      parse_reward_queries(body, limits);
      ADD_FAILURE() << "accepted: " << body;
    } catch (const BadRequest& error) {
      EXPECT_EQ(std::string(error.what()).rfind(expected, 0), 0u)
          << body << "\n  gave: " << error.what();
    }
  }
}

}  // namespace
}  // namespace omnirm::serve
