// Tests of fitting a tokenized pair into the length budget under both policies.
#include "omnirm/text/truncation.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "omnirm/core/error.h"

namespace omnirm::text {
namespace {

// Tokens first, first + 1, ..., so every position is recognisable after a cut.
std::vector<int32_t> run(int32_t first, int64_t count) {
  std::vector<int32_t> tokens;
  for (int64_t i = 0; i < count; ++i) {
    tokens.push_back(first + static_cast<int32_t>(i));
  }
  return tokens;
}

PairTokens make_pair(int64_t prompt, int64_t chosen, int64_t rejected) {
  return PairTokens{run(1000, prompt), run(2000, chosen), run(3000, rejected)};
}

int64_t longest_response(const PairTokens& pair) {
  return static_cast<int64_t>(std::max(pair.chosen.size(), pair.rejected.size()));
}

void expect_same(const PairTokens& actual, const PairTokens& expected) {
  EXPECT_EQ(actual.prompt, expected.prompt);
  EXPECT_EQ(actual.chosen, expected.chosen);
  EXPECT_EQ(actual.rejected, expected.rejected);
}

TEST(TruncationPolicyTest, ParsesKnownNames) {
  EXPECT_EQ(parse_truncation_policy("truncate"), TruncationPolicy::truncate);
  EXPECT_EQ(parse_truncation_policy("drop"), TruncationPolicy::drop);
}

TEST(TruncationPolicyTest, UnknownNameIsUserError) {
  EXPECT_THROW(parse_truncation_policy("Truncate"), UserError);
  try {
    parse_truncation_policy("clip");
    FAIL() << "expected UserError";
  } catch (const UserError& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'clip'"), std::string::npos) << message;
    EXPECT_NE(message.find("data.truncation"), std::string::npos) << message;
  }
}

TEST(FitPairTest, PairWithinBudgetFitsUnchanged) {
  for (const TruncationPolicy policy : {TruncationPolicy::truncate, TruncationPolicy::drop}) {
    PairTokens pair = make_pair(3, 4, 2);
    const PairTokens original = pair;
    EXPECT_EQ(fit_pair_to_length(pair, 7, policy, 2), FitOutcome::fits);
    expect_same(pair, original);
  }
}

TEST(FitPairTest, DropPolicyDropsOverLongPairUnchanged) {
  PairTokens pair = make_pair(3, 4, 2);
  const PairTokens original = pair;
  EXPECT_EQ(fit_pair_to_length(pair, 6, TruncationPolicy::drop, 2), FitOutcome::dropped);
  expect_same(pair, original);
}

TEST(FitPairTest, PromptIsCutFromTheLeftFirst) {
  // B = 10, L = 3: the prompt keeps max(10 - 3, min(10, 5)) = 7 tokens, its last ones.
  PairTokens pair = make_pair(10, 3, 2);
  EXPECT_EQ(fit_pair_to_length(pair, 10, TruncationPolicy::truncate, 2), FitOutcome::truncated);
  EXPECT_EQ(pair.prompt, run(1003, 7));
  EXPECT_EQ(pair.chosen, run(2000, 3));
  EXPECT_EQ(pair.rejected, run(3000, 2));
}

TEST(FitPairTest, PromptKeepsHalfTheBudgetThenResponsesAreCut) {
  // B = 20, L = 30: the prompt keeps min(20, 20 / 2) = 10; responses get 10 tokens each.
  PairTokens pair = make_pair(20, 30, 5);
  EXPECT_EQ(fit_pair_to_length(pair, 20, TruncationPolicy::truncate, 2), FitOutcome::truncated);
  EXPECT_EQ(pair.prompt, run(1010, 10));
  std::vector<int32_t> expected_chosen = run(2000, 8);
  expected_chosen.push_back(2028);
  expected_chosen.push_back(2029);
  EXPECT_EQ(pair.chosen, expected_chosen);
  EXPECT_EQ(pair.rejected, run(3000, 5));
}

TEST(FitPairTest, ShortPromptIsKeptWholeWhileResponsesAreCut) {
  // B = 20, P = 4 <= B / 2: the prompt stays, responses get 16 tokens.
  PairTokens pair = make_pair(4, 30, 25);
  EXPECT_EQ(fit_pair_to_length(pair, 20, TruncationPolicy::truncate, 3), FitOutcome::truncated);
  EXPECT_EQ(pair.prompt, run(1000, 4));
  std::vector<int32_t> expected_chosen = run(2000, 13);
  for (int32_t token : run(2027, 3)) expected_chosen.push_back(token);
  std::vector<int32_t> expected_rejected = run(3000, 13);
  for (int32_t token : run(3022, 3)) expected_rejected.push_back(token);
  EXPECT_EQ(pair.chosen, expected_chosen);
  EXPECT_EQ(pair.rejected, expected_rejected);
}

TEST(FitPairTest, ResponseOfOneTokenPlusClosingIsTheSmallestCut) {
  // B = 6, P = 10: the prompt keeps 3, responses get 3 = 1 + closing.
  PairTokens pair = make_pair(10, 10, 1);
  EXPECT_EQ(fit_pair_to_length(pair, 6, TruncationPolicy::truncate, 2), FitOutcome::truncated);
  EXPECT_EQ(pair.prompt, run(1007, 3));
  EXPECT_EQ(pair.chosen, (std::vector<int32_t>{2000, 2008, 2009}));
  EXPECT_EQ(pair.rejected, run(3000, 1));
}

TEST(FitPairTest, ImpossibleCutIsDroppedUnchanged) {
  // B = 4, P = 20: the prompt would keep 2, leaving 2 < closing + 1 for the responses.
  PairTokens pair = make_pair(20, 30, 3);
  const PairTokens original = pair;
  EXPECT_EQ(fit_pair_to_length(pair, 4, TruncationPolicy::truncate, 2), FitOutcome::dropped);
  expect_same(pair, original);
}

TEST(FitPairTest, ZeroClosingTokensCutsPlainly) {
  PairTokens pair = make_pair(2, 10, 10);
  EXPECT_EQ(fit_pair_to_length(pair, 6, TruncationPolicy::truncate, 0), FitOutcome::truncated);
  EXPECT_EQ(pair.prompt, run(1000, 2));
  EXPECT_EQ(pair.chosen, run(2000, 4));
  EXPECT_EQ(pair.rejected, run(3000, 4));
}

TEST(FitPairTest, NonPositiveBudgetIsUserError) {
  PairTokens pair = make_pair(2, 2, 2);
  EXPECT_THROW(fit_pair_to_length(pair, 0, TruncationPolicy::truncate, 2), UserError);
}

// Over a grid of shapes: a kept pair always fits, its prompt is a suffix of the original,
// and each response is a prefix of the original followed by the original closing tokens.
TEST(FitPairTest, TruncatedPairsAlwaysFitAndKeepTheirEnds) {
  const int64_t closing = 2;
  for (int64_t budget : {1, 3, 4, 7, 16, 33}) {
    for (int64_t prompt : {0, 1, 5, 17, 40}) {
      for (int64_t chosen : {2, 3, 9, 30}) {
        for (int64_t rejected : {2, 6, 31}) {
          PairTokens pair = make_pair(prompt, chosen, rejected);
          const PairTokens original = pair;
          const FitOutcome outcome =
              fit_pair_to_length(pair, budget, TruncationPolicy::truncate, closing);
          const bool fits = prompt + std::max(chosen, rejected) <= budget;
          EXPECT_EQ(outcome == FitOutcome::fits, fits);
          if (outcome != FitOutcome::truncated) {
            expect_same(pair, original);
            continue;
          }
          EXPECT_LE(static_cast<int64_t>(pair.prompt.size()) + longest_response(pair), budget);
          EXPECT_TRUE(
              std::equal(pair.prompt.rbegin(), pair.prompt.rend(), original.prompt.rbegin()));
          EXPECT_GE(static_cast<int64_t>(pair.prompt.size()), std::min(prompt, budget / 2));
          for (const auto& [cut, whole] : {std::pair{&pair.chosen, &original.chosen},
                                           std::pair{&pair.rejected, &original.rejected}}) {
            ASSERT_GE(cut->size(), static_cast<size_t>(closing));
            EXPECT_TRUE(std::equal(cut->end() - closing, cut->end(), whole->end() - closing));
            EXPECT_TRUE(std::equal(cut->begin(), cut->end() - closing, whole->begin()));
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace omnirm::text
