// Multi-response rows: a request's responses packed after one copy of its prompt get the
// rewards each response gets in a [prompt | chosen | rejected] pair row (the training layout)
// and alone after its prompt, for requests of 1 to 6 responses of mixed lengths batched
// together, under the reference and sdpa attention backends (fp32, 1e-5).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "omnirm/data/pair_batch.h"
#include "omnirm/serve/response_batch.h"
#include "omnirm/train/batching.h"
#include "serve_test_support.h"

namespace omnirm::serve {
namespace {

constexpr int64_t kVocab = 60;

// Rewards of (prompt, a) and (prompt, b) through the pair layout of the trainer.
std::pair<float, float> pair_rewards(model::RewardModelImpl& model, const TokenizedRequest& r,
                                     size_t a, size_t b) {
  const text::PairTokens pair{r.prompt, r.responses[a], r.responses[b]};
  train::PackedBatch packed;
  packed.pairs = data::pack_pairs({&pair}, {0.0f}, /*prefix_sharing=*/true);
  at::NoGradGuard no_grad;
  const model::RewardOutput out =
      model.forward(train::make_model_inputs(packed, at::Device(at::kCPU)));
  return {out.chosen[0].item<float>(), out.rejected[0].item<float>()};
}

TEST(ResponseBatch, PacksOnePromptPerRequest) {
  at::manual_seed(1);
  const TokenizedRequest a = testing::random_request(kVocab, 4, {2, 3});
  const TokenizedRequest b = testing::random_request(kVocab, 1, {1});
  const ResponseBatch batch = pack_requests({&a, &b});
  EXPECT_EQ(batch.row_offsets, (std::vector<int64_t>{0, 9, 11}));
  EXPECT_EQ(batch.segments, (std::vector<int8_t>{0, 0, 0, 0, 1, 1, 2, 2, 2, 0, 1}));
  EXPECT_EQ(batch.positions, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 4, 5, 6, 0, 1}));
  EXPECT_EQ(batch.response_last, (std::vector<int64_t>{5, 8, 10}));
  EXPECT_EQ(batch.responses_per_row, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(batch.tokens[6], a.responses[1][0]);
}

void expect_rows_match_pairs(const std::string& backend) {
  model::RewardModel model = testing::tiny_model(kVocab, 7, backend);
  at::manual_seed(3);
  const std::vector<TokenizedRequest> requests = {
      testing::random_request(kVocab, 9, {4, 1, 7}),
      testing::random_request(kVocab, 1, {3}),
      testing::random_request(kVocab, 14, {2, 6, 1, 5, 3, 8}),
      testing::random_request(kVocab, 5, {6, 6}),
  };
  std::vector<const TokenizedRequest*> pointers;
  for (const TokenizedRequest& r : requests) pointers.push_back(&r);
  const std::vector<std::vector<float>> batched =
      score_requests(*model, pointers, at::Device(at::kCPU));
  ASSERT_EQ(batched.size(), requests.size());

  float lowest = 1e9f, highest = -1e9f;
  for (size_t q = 0; q < requests.size(); ++q) {
    const TokenizedRequest& r = requests[q];
    ASSERT_EQ(batched[q].size(), r.responses.size());
    for (size_t i = 0; i < r.responses.size(); ++i) {
      // In a pair with the next response (or itself), and alone after the prompt.
      const size_t other = (i + 1) % r.responses.size();
      const auto [mine, theirs] = pair_rewards(*model, r, i, other);
      EXPECT_NEAR(batched[q][i], mine, 1e-5) << backend << " request " << q << " response " << i;
      EXPECT_NEAR(batched[q][other], theirs, 1e-5) << backend << " request " << q;
      TokenizedRequest alone{r.prompt, {r.responses[i]}};
      EXPECT_NEAR(score_requests(*model, {&alone}, at::Device(at::kCPU))[0][0], batched[q][i],
                  1e-5);
      lowest = std::min(lowest, batched[q][i]);
      highest = std::max(highest, batched[q][i]);
    }
  }
  // The comparison means something only if the rewards differ between responses.
  EXPECT_GT(highest - lowest, 1e-2);
}

TEST(ResponseBatch, RowsScoreLikePairsReference) { expect_rows_match_pairs("reference"); }
TEST(ResponseBatch, RowsScoreLikePairsSdpa) { expect_rows_match_pairs("sdpa"); }

TEST(ResponseBatch, RefusesEmptyAndOversizedRequests) {
  TokenizedRequest none{{1, 2}, {}};
  EXPECT_THROW(pack_requests({&none}), c10::Error);
  TokenizedRequest empty{{1, 2}, {{3}, {}}};
  EXPECT_THROW(pack_requests({&empty}), c10::Error);
  TokenizedRequest many{{1}, std::vector<std::vector<int32_t>>(kMaxResponsesPerRow + 1, {2})};
  EXPECT_THROW(pack_requests({&many}), c10::Error);
  many.responses.pop_back();
  EXPECT_EQ(pack_requests({&many}).segments.back(), kMaxResponsesPerRow);
}

}  // namespace
}  // namespace omnirm::serve
