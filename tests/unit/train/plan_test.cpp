// `omnirm plan`'s arithmetic: the parameter counts it derives from a config are those of the
// model the config builds (text, LoRA, every tower with and without freezing), and the stages
// divide what they promise to divide by the world size.
#include <gtest/gtest.h>

#include "omnirm/model/lora.h"
#include "omnirm/train/plan.h"

namespace {

using omnirm::train::ParameterCounts;

omnirm::Config base_config() {
  omnirm::Config config;
  config.model.hidden_size = 32;
  config.model.num_layers = 3;
  config.model.num_heads = 4;
  config.model.num_kv_heads = 2;
  config.model.intermediate_size = 48;
  return config;
}

void expect_counts_match(const omnirm::Config& config, const std::string& what) {
  const int64_t vocab = 57;
  const ParameterCounts planned = omnirm::train::count_parameters(config.model, config.lora, vocab);
  omnirm::model::RewardModel model(config.model, vocab);
  if (config.lora.rank > 0) omnirm::model::apply_lora(*model, config.lora);
  const ParameterCounts built = omnirm::train::count_parameters(*model);
  EXPECT_EQ(planned.total, built.total) << what;
  EXPECT_EQ(planned.trainable, built.trainable) << what;
  EXPECT_EQ(planned.frozen, built.frozen) << what;
  EXPECT_EQ(planned.block_trainable, built.block_trainable) << what;
  EXPECT_EQ(planned.largest_block, built.largest_block) << what;
  EXPECT_EQ(planned.head, built.head) << what;
  EXPECT_EQ(planned.embedding, built.embedding) << what;
  EXPECT_EQ(planned.backbone, built.backbone) << what;
  EXPECT_EQ(planned.backbone_trainable, built.backbone_trainable) << what;
}

TEST(Plan, ParameterCountsAreThoseOfTheBuiltModel) {
  omnirm::Config text = base_config();
  expect_counts_match(text, "text");
  text.model.qkv_bias = false;
  text.model.head_bias = false;
  expect_counts_match(text, "text without biases");

  omnirm::Config lora = base_config();
  lora.lora.rank = 4;
  lora.lora.target_modules = "q_proj,v_proj,down_proj";
  expect_counts_match(lora, "lora");

  omnirm::Config towers = base_config();
  towers.model.vision_layers = 2;
  towers.model.video_temporal_patch = 2;
  towers.model.video_motion_channels = true;
  towers.model.resampler_hidden = 32;
  towers.model.audio_layers = 1;
  towers.model.point_layers = 1;
  expect_counts_match(towers, "towers");
  towers.model.freeze_vision = true;
  towers.model.freeze_audio = true;
  expect_counts_match(towers, "frozen towers");
  towers.lora.rank = 2;
  expect_counts_match(towers, "towers with lora");
}

TEST(Plan, StagesShardWhatTheyPromise) {
  omnirm::Config config = base_config();
  config.train.param_dtype = "bf16";
  config.train.precision = "bf16";
  // Four micro-steps per rank: stage 1 accumulates whole gradients over them, stage 2 does
  // not (with one micro-step the two hold the same bytes).
  config.train.micro_batch_pairs = 2;
  const ParameterCounts counts = omnirm::train::count_parameters(config.model, config.lora, 100);
  const auto plan = omnirm::train::plan_memory(config, counts, 4, 64);
  ASSERT_EQ(plan.stages.size(), 4u);
  const auto& s0 = plan.stage(0).bytes;
  const auto& s1 = plan.stage(1).bytes;
  const auto& s2 = plan.stage(2).bytes;
  const auto& s3 = plan.stage(3).bytes;
  const double trainable = double(counts.trainable);
  EXPECT_DOUBLE_EQ(s0.optimizer, 8.0 * trainable);
  EXPECT_DOUBLE_EQ(s1.optimizer, s0.optimizer / 4.0);
  EXPECT_DOUBLE_EQ(s3.optimizer, s0.optimizer / 4.0);
  EXPECT_DOUBLE_EQ(s0.master, 4.0 * double(counts.trainable - counts.head));
  EXPECT_DOUBLE_EQ(s2.master, s0.master / 4.0);
  EXPECT_DOUBLE_EQ(s2.gradients, 4.0 * trainable / 4.0);
  EXPECT_LT(s3.parameters, s2.parameters);
  EXPECT_DOUBLE_EQ(s0.activations, s3.activations);
  EXPECT_GT(s0.total(), s1.total());
  EXPECT_GT(s1.total(), s2.total());
  EXPECT_GT(s2.total(), s3.total());
  EXPECT_EQ(plan.smallest_fitting(s2.total())->stage, 2);
  EXPECT_EQ(plan.smallest_fitting(s3.total() - 1.0), nullptr);
  // fp32 parameters at stages 0 and 1 keep the replicated path.
  config.train.param_dtype = "fp32";
  const auto fp32 = omnirm::train::plan_memory(config, counts, 4, 64);
  EXPECT_FALSE(fp32.stage(0).sharded_optimizer);
  EXPECT_FALSE(fp32.stage(1).sharded_optimizer);
  EXPECT_TRUE(fp32.stage(2).sharded_optimizer);
  EXPECT_DOUBLE_EQ(fp32.stage(0).bytes.buffers, 4.0 * trainable);  // the all-reduce buckets
}

TEST(Plan, CheckpointingKeepsOnlyLayerInputs) {
  omnirm::Config config = base_config();
  const double plain = omnirm::train::activation_bytes(config, 512, 4, 128);
  config.train.activation_checkpointing = 1;
  const double checkpointed = omnirm::train::activation_bytes(config, 512, 4, 128);
  EXPECT_LT(checkpointed, plain / 1.5);
  config.train.activation_checkpointing = 2;  // layers 0 and 2 of 3
  const double every_other = omnirm::train::activation_bytes(config, 512, 4, 128);
  EXPECT_GT(every_other, checkpointed);
  EXPECT_LT(every_other, plain);
}

}  // namespace
