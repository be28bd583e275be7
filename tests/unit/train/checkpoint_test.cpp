// Checkpoint bookkeeping: newest complete checkpoint found, temporary and incomplete ones
// ignored, keep-last-N pruning; weights round trip through safetensors with clear errors on
// mismatch; the learning-rate schedule's shape.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "omnirm/core/error.h"
#include "omnirm/infer/model_weights.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/train/checkpoint.h"
#include "omnirm/train/schedule.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::make_temp_dir;
using omnirm::testing::write_file;

void fake_checkpoint(const std::string& out, int64_t step, bool complete) {
  const std::string dir = omnirm::train::checkpoint_path(out, step);
  fs::create_directories(dir);
  if (complete) write_file(dir + "/trainer_state.json", "{}");
}

TEST(Checkpoint, LatestIgnoresIncompleteAndTemporaryDirectories) {
  const std::string out = make_temp_dir("ckpt-latest");
  EXPECT_FALSE(omnirm::train::latest_checkpoint(out).has_value());
  fake_checkpoint(out, 10, true);
  fake_checkpoint(out, 30, false);  // no trainer_state.json: never committed
  fs::create_directories(omnirm::train::checkpoint_path(out, 40) + ".tmp-123");
  fake_checkpoint(out, 20, true);
  ASSERT_TRUE(omnirm::train::latest_checkpoint(out).has_value());
  EXPECT_EQ(*omnirm::train::latest_checkpoint(out), omnirm::train::checkpoint_path(out, 20));
}

TEST(Checkpoint, PruneKeepsTheNewestAndRemovesTemporaries) {
  const std::string out = make_temp_dir("ckpt-prune");
  for (int64_t step : {5, 10, 15, 20}) fake_checkpoint(out, step, true);
  const std::string stale = omnirm::train::checkpoint_path(out, 25) + ".tmp-99";
  fs::create_directories(stale + "/nested");
  write_file(stale + "/nested/file", "x");
  omnirm::train::prune_checkpoints(out, 2);
  EXPECT_FALSE(fs::exists(omnirm::train::checkpoint_path(out, 5)));
  EXPECT_FALSE(fs::exists(omnirm::train::checkpoint_path(out, 10)));
  EXPECT_TRUE(fs::exists(omnirm::train::checkpoint_path(out, 15)));
  EXPECT_TRUE(fs::exists(omnirm::train::checkpoint_path(out, 20)));
  EXPECT_FALSE(fs::exists(stale));
}

TEST(Checkpoint, WeightsRoundTripAndMismatchesAreNamed) {
  omnirm::ModelConfig config;
  config.hidden_size = 16;
  config.num_heads = 2;
  config.num_kv_heads = 1;
  config.intermediate_size = 32;
  at::manual_seed(0);
  omnirm::model::RewardModel a(config, 20), b(config, 20);
  omnirm::model::initialize_weights(*a);
  const std::string path = make_temp_dir("ckpt-weights") + "/model.safetensors";
  omnirm::io::NamedTensors weights;
  for (const auto& p : a->named_parameters()) weights.emplace_back(p.key(), p.value());
  omnirm::io::save_safetensors(path, weights);
  omnirm::infer::load_model_weights(path, *b);
  for (const auto& p : a->named_parameters()) {
    EXPECT_TRUE(at::equal(p.value(), b->named_parameters()[p.key()])) << p.key();
  }
  omnirm::ModelConfig wider = config;
  wider.intermediate_size = 48;
  omnirm::model::RewardModel c(wider, 20);
  try {
    omnirm::infer::load_model_weights(path, *c);
    FAIL() << "shape mismatch not reported";
  } catch (const omnirm::UserError& e) {
    EXPECT_NE(std::string(e.what()).find("mlp.gate_proj.weight (file 32x16, model 48x16)"),
              std::string::npos)
        << e.what();
  }
}

TEST(Schedule, WarmupThenCosineToTheFloor) {
  omnirm::TrainConfig config;
  config.lr = 1.0;
  config.warmup_ratio = 0.1;
  config.min_lr_ratio = 0.1;
  const int64_t total = 100;
  EXPECT_DOUBLE_EQ(omnirm::train::learning_rate_at(0, total, config), 0.1);
  EXPECT_DOUBLE_EQ(omnirm::train::learning_rate_at(9, total, config), 1.0);
  EXPECT_DOUBLE_EQ(omnirm::train::learning_rate_at(10, total, config), 1.0);
  EXPECT_NEAR(omnirm::train::learning_rate_at(55, total, config), 0.55, 1e-12);  // half-way
  EXPECT_NEAR(omnirm::train::learning_rate_at(100, total, config), 0.1, 1e-12);
  for (int64_t s = 11; s < total; ++s) {
    EXPECT_LE(omnirm::train::learning_rate_at(s, total, config),
              omnirm::train::learning_rate_at(s - 1, total, config));
  }
}

}  // namespace
