// Scoring rows: a prompt's responses packed after one copy of the prompt get the rewards each
// response gets in a [prompt | chosen | rejected] pair row (the training layout) and alone
// after its prompt, for rows of 1 to 6 responses of mixed lengths batched together, under the
// reference and sdpa attention backends (fp32, 1e-5); media items are laid out per segment in
// token order.
#include "omnirm/infer/scoring_rows.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <memory>

#include "omnirm/data/pair_batch.h"
#include "omnirm/ops/attention.h"
#include "support/tiny_reward_model.h"

namespace omnirm::infer {
namespace {

constexpr int64_t kVocab = 60;

ScoringRow random_row(int64_t prompt, const std::vector<int64_t>& responses) {
  auto ids = [&](int64_t n) {
    const at::Tensor t = at::randint(kVocab, {n}, at::kInt);
    return std::vector<int32_t>(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + n);
  };
  ScoringRow row;
  row.prompt = ids(prompt);
  for (const int64_t length : responses) row.responses.push_back(ids(length));
  return row;
}

template <typename T>
at::Tensor longs(const std::vector<T>& values) {
  return at::tensor(std::vector<int64_t>(values.begin(), values.end()), at::kLong);
}

// Rewards of (prompt, a) and (prompt, b) through the pair layout of training (data::pack_pairs).
std::pair<float, float> pair_rewards(model::RewardModelImpl& model, const ScoringRow& r, size_t a,
                                     size_t b) {
  const text::PairTokens pair{r.prompt, r.responses[a], r.responses[b]};
  const data::PairBatch batch = data::pack_pairs({&pair}, {0.0f}, /*prefix_sharing=*/true);
  model::ModelInputs inputs;
  inputs.tokens = longs(batch.tokens);
  inputs.positions = longs(batch.positions);
  inputs.layout =
      ops::make_attention_layout(batch.row_offsets, batch.segments, at::Device(at::kCPU));
  inputs.chosen_last = longs(batch.chosen_last);
  inputs.rejected_last = longs(batch.rejected_last);
  inputs.margins = at::zeros({1});
  at::NoGradGuard no_grad;
  const model::RewardOutput out = model.forward(inputs);
  return {out.chosen[0].item<float>(), out.rejected[0].item<float>()};
}

std::vector<std::vector<float>> score(model::RewardModelImpl& model,
                                      const std::vector<const ScoringRow*>& rows) {
  return score_rows(model, rows, std::nullopt, at::Device(at::kCPU));
}

TEST(ScoringRows, PacksOnePromptPerRow) {
  at::manual_seed(1);
  const ScoringRow a = random_row(4, {2, 3});
  const ScoringRow b = random_row(1, {1});
  const RowBatch batch = pack_rows({&a, &b}, std::nullopt);
  EXPECT_EQ(batch.row_offsets, (std::vector<int64_t>{0, 9, 11}));
  EXPECT_EQ(batch.segments, (std::vector<int8_t>{0, 0, 0, 0, 1, 1, 2, 2, 2, 0, 1}));
  EXPECT_EQ(batch.positions, (std::vector<int32_t>{0, 1, 2, 3, 4, 5, 4, 5, 6, 0, 1}));
  EXPECT_EQ(batch.response_last, (std::vector<int64_t>{5, 8, 10}));
  EXPECT_EQ(batch.responses_per_row, (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(batch.tokens[6], a.responses[1][0]);
  EXPECT_EQ(batch.media_items, 0);
}

void expect_rows_match_pairs(const std::string& backend) {
  model::RewardModel model = testing::tiny_model(kVocab, 7, backend);
  at::manual_seed(3);
  const std::vector<ScoringRow> rows = {
      random_row(9, {4, 1, 7}),
      random_row(1, {3}),
      random_row(14, {2, 6, 1, 5, 3, 8}),
      random_row(5, {6, 6}),
  };
  std::vector<const ScoringRow*> pointers;
  for (const ScoringRow& r : rows) pointers.push_back(&r);
  const std::vector<std::vector<float>> batched = score(*model, pointers);
  ASSERT_EQ(batched.size(), rows.size());

  float lowest = 1e9f, highest = -1e9f;
  for (size_t q = 0; q < rows.size(); ++q) {
    const ScoringRow& r = rows[q];
    ASSERT_EQ(batched[q].size(), r.responses.size());
    for (size_t i = 0; i < r.responses.size(); ++i) {
      // In a pair with the next response (or itself), and alone after the prompt.
      const size_t other = (i + 1) % r.responses.size();
      const auto [mine, theirs] = pair_rewards(*model, r, i, other);
      EXPECT_NEAR(batched[q][i], mine, 1e-5) << backend << " row " << q << " response " << i;
      EXPECT_NEAR(batched[q][other], theirs, 1e-5) << backend << " row " << q;
      ScoringRow alone{r.prompt, {r.responses[i]}, {}};
      EXPECT_NEAR(score(*model, {&alone})[0][0], batched[q][i], 1e-5);
      lowest = std::min(lowest, batched[q][i]);
      highest = std::max(highest, batched[q][i]);
    }
  }
  // The comparison means something only if the rewards differ between responses.
  EXPECT_GT(highest - lowest, 1e-2);
}

TEST(ScoringRows, RowsScoreLikePairsReference) { expect_rows_match_pairs("reference"); }
TEST(ScoringRows, RowsScoreLikePairsSdpa) { expect_rows_match_pairs("sdpa"); }

TEST(ScoringRows, RefusesEmptyAndOversizedRows) {
  ScoringRow none{{1, 2}, {}, {}};
  EXPECT_THROW(pack_rows({&none}, std::nullopt), c10::Error);
  ScoringRow empty{{1, 2}, {{3}, {}}, {}};
  EXPECT_THROW(pack_rows({&empty}, std::nullopt), c10::Error);
  ScoringRow many{{1}, std::vector<std::vector<int32_t>>(kMaxResponsesPerRow + 1, {2}), {}};
  EXPECT_THROW(pack_rows({&many}, std::nullopt), c10::Error);
  many.responses.pop_back();
  EXPECT_EQ(pack_rows({&many}, std::nullopt).segments.back(), kMaxResponsesPerRow);
}

// An image item of `value` everywhere, belonging to `segment`.
data::MediaItem image_item(int8_t segment, float value) {
  data::MediaItem item;
  item.kind = data::MediaKind::image;
  item.segment = segment;
  item.shape = {3, 2, 2};
  item.values = std::make_shared<const std::vector<float>>(12, value);
  return item;
}

TEST(ScoringRows, MediaFollowTheirPlaceholdersSegmentBySegment) {
  data::MediaLayout layout;
  layout.image_id = 50;
  layout.image_tokens = 2;
  // Row 1: an image in the prompt and one in its second response, listed out of order;
  // row 2: an image in its only response.
  ScoringRow first{
      {1, 50, 50, 2}, {{3, 4}, {50, 50, 5}}, {image_item(2, 2.0f), image_item(0, 1.0f)}};
  ScoringRow second{{6}, {{50, 50, 7}}, {image_item(1, 3.0f)}};
  const RowBatch batch = pack_rows({&first, &second}, layout);
  EXPECT_EQ(batch.media_items, 3);
  ASSERT_TRUE(batch.media.images.defined());
  EXPECT_EQ(batch.media.images.sizes(), (at::IntArrayRef{3, 3, 2, 2}));
  // Items in token order: the prompt's, then response 2's, then the next row's.
  EXPECT_FLOAT_EQ(batch.media.images[0][0][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(batch.media.images[1][0][0][0].item<float>(), 2.0f);
  EXPECT_FLOAT_EQ(batch.media.images[2][0][0][0].item<float>(), 3.0f);
  const at::Tensor slots = batch.media.image_slots;
  EXPECT_EQ(std::vector<int64_t>(slots.data_ptr<int64_t>(), slots.data_ptr<int64_t>() + 6),
            (std::vector<int64_t>{1, 2, 6, 7, 10, 11}));
  EXPECT_THROW(pack_rows({&first}, std::nullopt), c10::Error);
}

}  // namespace
}  // namespace omnirm::infer
