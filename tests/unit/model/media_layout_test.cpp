// The pair-prefix layout with media: a pair's rewards do not depend on the other pairs
// packed with it, and encoding a prompt's media once in the shared-prefix layout gives the
// rewards of the two-sequence layout that encodes it twice (fp32, within 1e-5), with the
// encoder's item counter showing the saving.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "media_test_batch.h"

namespace omnirm::model {
namespace {

using testing::join;
using testing::MediaItem;
using testing::MediaKind;
using testing::random_item;
using testing::text_tokens;

constexpr double kTolerance = 1e-5;

RewardModel make_model(const ModelConfig& config, uint64_t seed) {
  at::manual_seed(seed);
  RewardModel model(config, testing::kVocab);
  initialize_weights(*model);
  model->eval();
  return model;
}

// Three pairs, each with media somewhere: a prompt image (understanding task), a chosen
// image and a rejected point cloud (generation task), a prompt video of two frames and
// audio in chosen.
struct ThreePairs {
  std::vector<MediaItem> items;
  text::PairTokens first, second, third;
};

ThreePairs three_pairs(const ModelConfig& config) {
  ThreePairs t;
  t.items = {random_item(config, MediaKind::image),
             random_item(config, MediaKind::image),
             random_item(config, MediaKind::points),
             random_item(config, MediaKind::video_frame, 0),
             random_item(config, MediaKind::video_frame, 1),
             random_item(config, MediaKind::audio)};
  auto ph = [&](int64_t index) { return testing::placeholders(config, t.items, index); };
  t.first = {join({text_tokens(2), ph(0), text_tokens(4)}), text_tokens(3), text_tokens(5)};
  t.second = {text_tokens(6), join({ph(1), text_tokens(2)}), join({text_tokens(1), ph(2)})};
  t.third = {join({ph(3), ph(4), text_tokens(3)}), join({text_tokens(2), ph(5), text_tokens(1)}),
             text_tokens(4)};
  return t;
}

double max_difference(const at::Tensor& a, const at::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

TEST(MediaLayout, RewardsDoNotDependOnTheOtherPairsInTheBatch) {
  const ModelConfig config = testing::omni_test_config();
  RewardModel model = make_model(config, 61);
  at::manual_seed(62);
  const ThreePairs t = three_pairs(config);
  at::NoGradGuard no_grad;
  for (const bool sharing : {true, false}) {
    const RewardOutput alone_first =
        model->forward(testing::pack(config, {t.first}, t.items, sharing));
    const RewardOutput alone_third =
        model->forward(testing::pack(config, {t.third}, t.items, sharing));
    const RewardOutput packed =
        model->forward(testing::pack(config, {t.second, t.first, t.third}, t.items, sharing));
    EXPECT_LT(max_difference(packed.chosen[1], alone_first.chosen[0]), kTolerance) << sharing;
    EXPECT_LT(max_difference(packed.rejected[1], alone_first.rejected[0]), kTolerance) << sharing;
    EXPECT_LT(max_difference(packed.chosen[2], alone_third.chosen[0]), kTolerance) << sharing;
    EXPECT_LT(max_difference(packed.rejected[2], alone_third.rejected[0]), kTolerance) << sharing;
  }
}

TEST(MediaLayout, SharedPrefixEncodesAPromptImageOnceAndMatchesTwoSequences) {
  const ModelConfig config = testing::omni_test_config();
  RewardModel model = make_model(config, 71);
  MediaEncoderImpl& encoder = model->media_encoder();
  at::manual_seed(72);
  const ThreePairs t = three_pairs(config);
  at::NoGradGuard no_grad;

  // One pair, one image in its prompt: encoded once with prefix sharing, twice without.
  int64_t before = encoder.encoded_items();
  const RewardOutput shared = model->forward(testing::pack(config, {t.first}, t.items, true));
  EXPECT_EQ(encoder.encoded_items() - before, 1);
  before = encoder.encoded_items();
  const RewardOutput naive = model->forward(testing::pack(config, {t.first}, t.items, false));
  EXPECT_EQ(encoder.encoded_items() - before, 2);
  EXPECT_LT(max_difference(shared.chosen, naive.chosen), kTolerance);
  EXPECT_LT(max_difference(shared.rejected, naive.rejected), kTolerance);
  EXPECT_GT(max_difference(shared.chosen, shared.rejected), 1e-4);  // not trivially equal

  // All three pairs: prompt media (1 image + 2 frames) double, response media (2 items and
  // 1 clip) are encoded per side either way.
  const std::vector<text::PairTokens> pairs = {t.first, t.second, t.third};
  before = encoder.encoded_items();
  const RewardOutput shared_all = model->forward(testing::pack(config, pairs, t.items, true));
  EXPECT_EQ(encoder.encoded_items() - before, 3 + 3);
  before = encoder.encoded_items();
  const RewardOutput naive_all = model->forward(testing::pack(config, pairs, t.items, false));
  EXPECT_EQ(encoder.encoded_items() - before, 2 * 3 + 3);
  EXPECT_LT(max_difference(shared_all.chosen, naive_all.chosen), kTolerance);
  EXPECT_LT(max_difference(shared_all.rejected, naive_all.rejected), kTolerance);
}

TEST(MediaLayout, ChangingAPromptImageChangesBothRewards) {
  const ModelConfig config = testing::omni_test_config();
  RewardModel model = make_model(config, 81);
  at::manual_seed(82);
  ThreePairs t = three_pairs(config);
  at::NoGradGuard no_grad;
  const RewardOutput original = model->forward(testing::pack(config, {t.first}, t.items, true));
  t.items[0] = random_item(config, MediaKind::image);
  const RewardOutput changed = model->forward(testing::pack(config, {t.first}, t.items, true));
  EXPECT_GT(max_difference(original.chosen, changed.chosen), 1e-5);
  EXPECT_GT(max_difference(original.rejected, changed.rejected), 1e-5);
}

}  // namespace
}  // namespace omnirm::model
