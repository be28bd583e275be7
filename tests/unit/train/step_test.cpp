// optimizer_step: micro-batch weighting by pair count (uneven micro-batches give the
// gradient of the global mean) and the zero-gradient part of a rank with an empty share.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

#include "omnirm/data/pair_batch.h"
#include "omnirm/train/step.h"
#include "omnirm/train/trainer.h"

namespace {

using omnirm::text::PairTokens;

omnirm::Config tiny_config() {
  omnirm::Config config;
  config.model.hidden_size = 16;
  config.model.num_heads = 2;
  config.model.num_kv_heads = 1;
  config.model.intermediate_size = 32;
  config.train.lr = 1e-2;
  config.train.weight_decay = 0.0;
  config.train.max_grad_norm = 0.0;
  return config;
}

std::vector<PairTokens> some_pairs() {
  return {{{1, 2, 3}, {4, 5}, {6}},
          {{7, 8}, {9, 10, 11}, {12, 13}},
          {{2, 4, 6, 8}, {1}, {3, 5}},
          {{11, 12}, {13, 14}, {15, 16, 17}}};
}

omnirm::train::PackedBatch pack(const std::vector<PairTokens>& pairs, size_t begin, size_t end) {
  std::vector<const PairTokens*> pointers;
  std::vector<float> margins;
  for (size_t i = begin; i < end; ++i) {
    pointers.push_back(&pairs[i]);
    margins.push_back(0.0f);
  }
  return {omnirm::data::pack_pairs(pointers, margins, /*prefix_sharing=*/true), {}, 0};
}

omnirm::model::RewardModel fresh_model(const omnirm::Config& config) {
  at::manual_seed(3);
  omnirm::model::RewardModel model(config.model, 20);
  omnirm::model::initialize_weights(*model);
  return model;
}

// The gradients optimizer_step leaves behind (it clears them before, not after).
std::vector<at::Tensor> gradients_of_one_step(
    const omnirm::Config& config, const std::vector<omnirm::train::PackedBatch>& micro_batches) {
  omnirm::model::RewardModel model = fresh_model(config);
  auto optimizer = omnirm::train::make_optimizer(*model, config.train);
  omnirm::train::optimizer_step(*model, *optimizer, micro_batches, 4, config, config.train.lr,
                                at::Device(at::kCPU));
  std::vector<at::Tensor> values;
  for (const at::Tensor& p : model->parameters()) values.push_back(p.grad().clone());
  return values;
}

TEST(OptimizerStep, UnevenMicroBatchesGiveTheGradientOfTheGlobalMean) {
  const omnirm::Config config = tiny_config();
  const std::vector<PairTokens> pairs = some_pairs();
  const auto one = gradients_of_one_step(config, {pack(pairs, 0, 4)});
  const auto uneven = gradients_of_one_step(config, {pack(pairs, 0, 1), pack(pairs, 1, 4)});
  // Weighting each micro-loss equally (not by its pairs) would give other gradients.
  ASSERT_EQ(one.size(), uneven.size());
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_TRUE(at::allclose(one[i], uneven[i], 1e-4, 1e-7)) << "parameter " << i;
  }
  const auto only_first = gradients_of_one_step(config, {pack(pairs, 0, 1)});
  bool any_differs = false;
  for (size_t i = 0; i < one.size(); ++i)
    any_differs |= !at::allclose(one[i], only_first[i], 1e-4, 1e-7);
  EXPECT_TRUE(any_differs);
}

TEST(OptimizerStep, AnEmptyShareGivesEveryParameterAZeroGradient) {
  const omnirm::Config config = tiny_config();
  omnirm::model::RewardModel model = fresh_model(config);
  auto optimizer = omnirm::train::make_optimizer(*model, config.train);
  const omnirm::train::DataParallelStep second_of_two{1, 2, nullptr, nullptr};
  const omnirm::train::StepStats stats = omnirm::train::optimizer_step(
      *model, *optimizer, {}, 1, config, config.train.lr, at::Device(at::kCPU), second_of_two);
  EXPECT_EQ(stats.pairs, 0);
  EXPECT_EQ(stats.loss_value(), 0.0);
  for (const auto& item : model->named_parameters()) {
    ASSERT_TRUE(item.value().grad().defined()) << item.key();
    EXPECT_EQ(item.value().grad().abs().max().item<float>(), 0.0f) << item.key();
  }
}

}  // namespace
