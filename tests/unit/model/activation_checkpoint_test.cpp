// Activation checkpointing and mixed precision in the model: checkpointed blocks (every
// block, every other block) give the same rewards and gradients as plain ones, for the
// backbone and all three towers; a frozen input (embeddings frozen, as under LoRA) still
// trains a checkpointed block; a bf16 forward computes its products in bf16 yet returns fp32
// rewards, and a checkpointed bf16 forward recomputes in bf16.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "media_test_batch.h"
#include "omnirm/model/activation_checkpoint.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/ops/autocast.h"

namespace {

using namespace omnirm::model;
namespace mt = omnirm::model::testing;
using mt::MediaKind;
using mt::text_tokens;

struct Batch {
  std::vector<mt::MediaItem> items;
  std::vector<omnirm::text::PairTokens> pairs;
};

Batch omni_batch(const omnirm::ModelConfig& config) {
  at::manual_seed(5);
  Batch b;
  b.items = {mt::random_item(config, MediaKind::image), mt::random_item(config, MediaKind::audio),
             mt::random_item(config, MediaKind::points),
             mt::random_item(config, MediaKind::video_frame, 0),
             mt::random_item(config, MediaKind::video_frame, 1)};
  auto ph = [&](int64_t index) { return mt::placeholders(config, b.items, index); };
  b.pairs = {{mt::join({text_tokens(3), ph(0), text_tokens(2)}), mt::join({ph(1), text_tokens(2)}),
              text_tokens(4)},
             {mt::join({ph(3), ph(4), text_tokens(2)}), text_tokens(3),
              mt::join({text_tokens(1), ph(2)})}};
  return b;
}

struct Outcome {
  at::Tensor chosen, rejected;
  std::map<std::string, at::Tensor> grads;
};

// Rewards and parameter gradients of -log σ(r_c - r_r) summed, with `every` checkpointing.
Outcome run(int64_t every, bool freeze_embeddings = false,
            omnirm::ops::Precision precision = omnirm::ops::Precision::fp32) {
  const omnirm::ModelConfig config = mt::omni_test_config();
  at::manual_seed(17);
  RewardModel model(config, mt::kVocab);
  initialize_weights(*model);
  model->train();
  model->set_activation_checkpointing(every);
  if (freeze_embeddings) {
    for (auto& p : model->named_parameters()) {
      if (p.key() == "model.embed_tokens.weight") p.value().requires_grad_(false);
    }
  }
  const Batch b = omni_batch(config);
  const ModelInputs inputs = mt::pack(config, b.pairs, b.items, true);
  RewardOutput out;
  {
    omnirm::ops::AutocastScope autocast(c10::DeviceType::CPU, precision);
    out = model->forward(inputs);
  }
  (-at::log_sigmoid(out.chosen - out.rejected)).sum().backward();
  Outcome o{out.chosen.detach(), out.rejected.detach(), {}};
  for (const auto& p : model->named_parameters()) {
    if (p.value().grad().defined()) o.grads[p.key()] = p.value().grad().clone();
  }
  return o;
}

void expect_same(const Outcome& plain, const Outcome& other, double tolerance) {
  EXPECT_TRUE(at::allclose(plain.chosen, other.chosen, 0, tolerance));
  EXPECT_TRUE(at::allclose(plain.rejected, other.rejected, 0, tolerance));
  ASSERT_EQ(plain.grads.size(), other.grads.size());
  for (const auto& [name, grad] : plain.grads) {
    ASSERT_TRUE(other.grads.count(name)) << name;
    const double scale = std::max(1.0, grad.abs().max().item<double>());
    EXPECT_LE((grad - other.grads.at(name)).abs().max().item<double>(), tolerance * scale) << name;
  }
}

TEST(ActivationCheckpointing, SameRewardsAndGradientsAsPlainBlocks) {
  const Outcome plain = run(0);
  // Every tower and the backbone took part: their parameters have nonzero gradients.
  for (const char* prefix : {"model.layers.0.", "vision_tower.encoder.layers.0.",
                             "audio_tower.layers.0.", "point_tower.layers.0."}) {
    double total = 0.0;
    for (const auto& [name, grad] : plain.grads) {
      if (name.starts_with(prefix)) total += grad.abs().sum().item<double>();
    }
    EXPECT_GT(total, 0.0) << prefix;
  }
  expect_same(plain, run(1), 1e-6);
  expect_same(plain, run(2), 1e-6);
}

TEST(ActivationCheckpointing, FrozenEmbeddingsStillTrainCheckpointedBlocks) {
  const Outcome plain = run(0, /*freeze_embeddings=*/true);
  const Outcome checkpointed = run(1, /*freeze_embeddings=*/true);
  EXPECT_FALSE(checkpointed.grads.count("model.embed_tokens.weight"));
  ASSERT_TRUE(checkpointed.grads.count("model.layers.0.self_attn.q_proj.weight"));
  expect_same(plain, checkpointed, 1e-6);
}

TEST(ActivationCheckpointing, BlockSelection) {
  EXPECT_FALSE(checkpoint_block(0, 0));
  EXPECT_TRUE(checkpoint_block(0, 1));
  EXPECT_TRUE(checkpoint_block(3, 1));
  EXPECT_TRUE(checkpoint_block(2, 2));
  EXPECT_FALSE(checkpoint_block(3, 2));
}

TEST(MixedPrecision, AutocastScopeSwitchesProductsAndRestores) {
  const at::Tensor a = at::randn({4, 8});
  const at::Tensor w = at::randn({3, 8});
  {
    omnirm::ops::AutocastScope bf16(c10::DeviceType::CPU, omnirm::ops::Precision::bf16);
    EXPECT_EQ(at::linear(a, w).scalar_type(), at::kBFloat16);
    {
      omnirm::ops::AutocastScope fp32(c10::DeviceType::CPU, omnirm::ops::Precision::fp32);
      EXPECT_EQ(at::linear(a, w).scalar_type(), at::kFloat);
    }
    EXPECT_EQ(at::linear(a, w).scalar_type(), at::kBFloat16);
  }
  EXPECT_EQ(at::linear(a, w).scalar_type(), at::kFloat);
}

TEST(MixedPrecision, Bf16ForwardKeepsFp32RewardsAndWeights) {
  const Outcome fp32 = run(0);
  const Outcome bf16 = run(0, false, omnirm::ops::Precision::bf16);
  EXPECT_EQ(bf16.chosen.scalar_type(), at::kFloat);
  for (const auto& [name, grad] : bf16.grads) EXPECT_EQ(grad.scalar_type(), at::kFloat) << name;
  // bf16 products change the rewards a little, not a lot.
  const double difference = (fp32.chosen - bf16.chosen).abs().max().item<double>();
  EXPECT_GT(difference, 0.0);
  EXPECT_LT(difference, 0.05 * std::max(1.0, fp32.chosen.abs().max().item<double>()));
  // The recomputation of a checkpointed block runs under the same bf16 autocast.
  expect_same(bf16, run(1, false, omnirm::ops::Precision::bf16), 1e-6);
}

TEST(MixedPrecision, ParsePrecision) {
  EXPECT_EQ(omnirm::ops::parse_precision("bf16", "x"), omnirm::ops::Precision::bf16);
  EXPECT_EQ(omnirm::ops::compute_dtype(omnirm::ops::Precision::fp16), at::kHalf);
  EXPECT_THROW(omnirm::ops::parse_precision("fp8", "train.precision"), std::exception);
}

}  // namespace
