// fp16 loss scaling: the scaler's schedule (halve and skip on overflow, grow after clean
// steps) and optimizer_step with it — an overflowing step leaves the weights untouched and
// halves the scale; a normal fp16 step updates them with gradients close to fp32's.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "omnirm/data/pair_batch.h"
#include "omnirm/train/loss_scaler.h"
#include "omnirm/train/step.h"
#include "omnirm/train/trainer.h"

namespace {

using omnirm::train::LossScaler;
using omnirm::train::LossScalerOptions;

TEST(LossScaler, HalvesAndSkipsOnOverflowAndGrowsAfterCleanSteps) {
  LossScalerOptions options;
  options.initial_scale = 1024.0;
  options.growth_interval = 3;
  LossScaler scaler(true, options);
  EXPECT_FALSE(scaler.update(false));
  EXPECT_EQ(scaler.scale(), 512.0);
  EXPECT_EQ(scaler.skipped_steps(), 1);
  EXPECT_TRUE(scaler.update(true));
  EXPECT_TRUE(scaler.update(true));
  EXPECT_EQ(scaler.scale(), 512.0);
  EXPECT_TRUE(scaler.update(true));
  EXPECT_EQ(scaler.scale(), 1024.0);
  LossScaler off(false);
  EXPECT_EQ(off.scale(), 1.0);
  EXPECT_TRUE(off.update(false));
}

omnirm::Config fp16_config() {
  omnirm::Config config;
  config.model.hidden_size = 16;
  config.model.num_heads = 2;
  config.model.num_kv_heads = 1;
  config.model.intermediate_size = 32;
  config.model.attention_backend = "reference";
  config.train.lr = 1e-2;
  config.train.max_grad_norm = 0.0;
  config.train.precision = "fp16";
  return config;
}

omnirm::train::PackedBatch some_batch(const std::vector<omnirm::text::PairTokens>& pairs) {
  std::vector<const omnirm::text::PairTokens*> pointers;
  for (const auto& p : pairs) pointers.push_back(&p);
  return {omnirm::data::pack_pairs(pointers, std::vector<float>(pairs.size(), 0.0f), true), {}, 0};
}

TEST(LossScaler, OverflowSkipsTheUpdateAndANormalStepApplies) {
  const omnirm::Config config = fp16_config();
  at::manual_seed(4);
  omnirm::model::RewardModel model(config.model, 20);
  omnirm::model::initialize_weights(*model);
  model->train();
  auto optimizer = omnirm::train::make_optimizer(*model, config.train);
  const std::vector<omnirm::text::PairTokens> pairs = {{{1, 2, 3}, {4, 5}, {6}},
                                                       {{7, 8}, {9, 10, 11}, {12, 13}}};
  const std::vector<omnirm::train::PackedBatch> batches = {some_batch(pairs)};
  const at::Tensor before = model->named_parameters()["model.layers.0.mlp.up_proj.weight"].clone();

  LossScalerOptions huge;
  huge.initial_scale = 1e30;  // fp16 gradients overflow
  LossScaler scaler(true, huge);
  const auto skipped = omnirm::train::optimizer_step(*model, *optimizer, batches, 2, config, 1e-2,
                                                     at::Device(at::kCPU), {}, &scaler);
  EXPECT_TRUE(skipped.skipped);
  EXPECT_EQ(scaler.scale(), 5e29);
  EXPECT_TRUE(at::equal(before, model->named_parameters()["model.layers.0.mlp.up_proj.weight"]));

  LossScaler normal(true);
  const auto applied = omnirm::train::optimizer_step(*model, *optimizer, batches, 2, config, 1e-2,
                                                     at::Device(at::kCPU), {}, &normal);
  EXPECT_FALSE(applied.skipped);
  EXPECT_EQ(applied.loss_scale, 65536.0);
  EXPECT_TRUE(std::isfinite(applied.grad_norm_value()));
  EXPECT_FALSE(at::equal(before, model->named_parameters()["model.layers.0.mlp.up_proj.weight"]));
}

}  // namespace
