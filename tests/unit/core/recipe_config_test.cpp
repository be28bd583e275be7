// configs/omni-reward-bt.yaml, the paper's recipe for MiniCPM-o-2.6, loads and validates with
// the values the paper and the fork's training script give; the MiniCPM-o settings outside
// what the minicpmo path reproduces are refused naming the key and the value.
#include <gtest/gtest.h>

#include <string>

#include "omnirm/core/config.h"
#include "omnirm/core/error.h"

namespace {

std::string refusal(const std::string& yaml) {
  try {
    omnirm::validate_config(omnirm::parse_config(yaml, "test.yaml"));
  } catch (const omnirm::UserError& error) {
    return error.what();
  }
  return "";
}

TEST(RecipeConfig, OmniRewardBtIsThePapersRecipe) {
  const omnirm::Config c =
      omnirm::load_config(std::string(OMNIRM_SOURCE_DIR) + "/configs/omni-reward-bt.yaml");
  omnirm::validate_config(c);
  EXPECT_EQ(c.model.arch, "minicpmo");
  EXPECT_DOUBLE_EQ(c.model.head_dropout, 0.1);
  EXPECT_TRUE(c.model.freeze_vision);
  EXPECT_TRUE(c.model.freeze_audio);
  EXPECT_EQ(c.data.max_length, 18000);
  EXPECT_EQ(c.data.video_frames, 4);
  EXPECT_DOUBLE_EQ(c.data.video_fps, 2.0);
  EXPECT_EQ(c.data.video_max_pixels, 256 * 256);
  EXPECT_EQ(c.train.epochs, 2);
  EXPECT_EQ(c.train.global_batch_pairs, 64);
  EXPECT_EQ(c.train.micro_batch_pairs, 1);
  EXPECT_DOUBLE_EQ(c.train.lr, 2e-6);
  EXPECT_DOUBLE_EQ(c.train.warmup_ratio, 0.05);
  EXPECT_DOUBLE_EQ(c.train.min_lr_ratio, 0.0);
  EXPECT_DOUBLE_EQ(c.train.weight_decay, 1e-3);
  EXPECT_EQ(c.train.precision, "bf16");
  EXPECT_EQ(c.train.param_dtype, "bf16");
  EXPECT_EQ(c.dist.zero_stage, 2);
  EXPECT_EQ(c.train.activation_checkpointing, 1);
}

TEST(RecipeConfig, MinicpmoSettingsOutsideThePathAreRefusedByName) {
  const std::string vision = "model:\n  arch: minicpmo\n  vision_layers: 1\n";
  EXPECT_NE(refusal(vision + "  hidden_size: 64\n  num_heads: 4\n").find("model.hidden_size 64"),
            std::string::npos);
  const std::string audio = "model:\n  arch: minicpmo\n  audio_layers: 1\n  audio_pool_stride: 2\n";
  EXPECT_NE(
      refusal(audio + "  audio_chunk_seconds: 0.015\n").find("model.audio_chunk_seconds 0.015"),
      std::string::npos);
  EXPECT_NE(refusal("model:\n  arch: minicpmo\n  audio_layers: 1\n  audio_pool_stride: 3\n")
                .find("model.audio_pool_stride 3"),
            std::string::npos);
  EXPECT_NE(refusal("model:\n  arch: minicpm\n").find("model.arch must be one of"),
            std::string::npos);
  EXPECT_NE(refusal(vision + "  hidden_size: 128\n  video_temporal_patch: 2\n")
                .find("video_temporal_patch"),
            std::string::npos);
  EXPECT_EQ(refusal(vision + "  hidden_size: 256\n"), "");
}

}  // namespace
