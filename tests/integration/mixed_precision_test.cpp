// Mixed precision and activation checkpointing through the omnirm binary: bf16 training on
// the CPU tracks fp32 training on the synthetic t2t set from the same seed (the mean loss of
// every 10 steps within 0.05, held-out loss and accuracy within 0.05), checkpointed training
// gives the fp32 losses step for step, bf16 weights (train.param_dtype) track fp32 as closely,
// fp16 learns and logs its loss scale, and
// `omnirm bench memory` prints the four settings with checkpointing and bf16 using less memory
// per step than fp32.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "support/test_support.h"

namespace {

using omnirm::testing::make_temp_dir;
using omnirm::testing::make_tiny_run_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::run_command;
using omnirm::testing::TinyRun;

struct RunLog {
  std::vector<double> losses;  // per step
  double eval_accuracy = -1.0;
  double eval_loss = -1.0;
  nlohmann::json last_step;
};

RunLog read_metrics(const std::string& path) {
  RunLog log;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json record = nlohmann::json::parse(line);
    if (record.contains("loss") && !record.contains("eval/loss")) {
      log.losses.push_back(record["loss"].get<double>());
      log.last_step = record;
    }
    if (record.contains("eval/accuracy")) {
      log.eval_accuracy = record["eval/accuracy"].get<double>();
      log.eval_loss = record["eval/loss"].get<double>();
    }
  }
  return log;
}

class MixedPrecisionRun : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("mixed_precision"));
    TinyRun run;
    run.train_pairs = 320;
    run.eval_pairs = 64;
    run.micro_batch_pairs = 8;
    ASSERT_EQ(make_tiny_run_dir(*dir_, run), "");
  }
  static void TearDownTestSuite() { delete dir_; }

  static RunLog train(const std::string& name, const std::string& settings) {
    const std::string out = *dir_ + "/" + name;
    const auto result = run_command(omnirm_binary() + " train -c " + *dir_ +
                                    "/tiny.yaml --set train.max_steps=60 --set train.save_every=0"
                                    " --set train.global_batch_pairs=32"
                                    " --set train.micro_batch_pairs=16 --set train.lr=0.002"
                                    " --set train.output_dir=" +
                                    out + " " + settings);
    EXPECT_EQ(result.exit_code, 0) << result.output;
    return read_metrics(out + "/metrics.jsonl");
  }

  static std::string* dir_;
};
std::string* MixedPrecisionRun::dir_ = nullptr;

// The mean of every `window` consecutive losses.
std::vector<double> window_means(const std::vector<double>& losses, size_t window) {
  std::vector<double> means;
  for (size_t i = 0; i + window <= losses.size(); i += window) {
    double sum = 0.0;
    for (size_t k = i; k < i + window; ++k) sum += losses[k];
    means.push_back(sum / double(window));
  }
  return means;
}

TEST_F(MixedPrecisionRun, Bf16TracksFp32AndCheckpointingMatchesIt) {
  const RunLog fp32 = train("fp32", "");
  const RunLog bf16 = train("bf16", "--set train.precision=bf16");
  const RunLog checkpointed = train("ckpt", "--set train.activation_checkpointing=1");
  ASSERT_EQ(fp32.losses.size(), 60u);
  ASSERT_EQ(bf16.losses.size(), 60u);
  ASSERT_EQ(checkpointed.losses.size(), 60u);
  const std::vector<double> fp32_means = window_means(fp32.losses, 10);
  const std::vector<double> bf16_means = window_means(bf16.losses, 10);
  // The run learns: the last ten steps average well below log 2.
  EXPECT_LT(fp32_means.back(), 0.6);
  double worst_window = 0.0, worst_step = 0.0, worst_checkpointed = 0.0;
  for (size_t i = 0; i < fp32_means.size(); ++i) {
    worst_window = std::max(worst_window, std::abs(fp32_means[i] - bf16_means[i]));
  }
  for (size_t i = 0; i < fp32.losses.size(); ++i) {
    worst_step = std::max(worst_step, std::abs(fp32.losses[i] - bf16.losses[i]));
    worst_checkpointed =
        std::max(worst_checkpointed, std::abs(fp32.losses[i] - checkpointed.losses[i]));
  }
  EXPECT_LT(worst_window, 0.05) << "largest 10-step mean loss difference, bf16 vs fp32";
  EXPECT_GT(worst_step, 0.0) << "bf16 computed exactly like fp32: autocast did not engage";
  EXPECT_LT(worst_checkpointed, 1e-4);
  EXPECT_NEAR(bf16.eval_accuracy, fp32.eval_accuracy, 0.05);
  EXPECT_NEAR(bf16.eval_loss, fp32.eval_loss, 0.05);
  std::cout << "[          ] bf16 vs fp32: largest 10-step mean loss difference " << worst_window
            << ", eval loss " << fp32.eval_loss << " / " << bf16.eval_loss << ", eval accuracy "
            << fp32.eval_accuracy << " / " << bf16.eval_accuracy << "\n";
}

// bf16 weights (train.param_dtype) with the fp32 master copy in the optimizer: the same
// tolerance as bf16 compute on fp32 weights.
TEST_F(MixedPrecisionRun, Bf16ParametersTrackFp32) {
  const RunLog fp32 = train("fp32-reference", "");
  const RunLog bf16 =
      train("bf16-params", "--set train.precision=bf16 --set train.param_dtype=bf16");
  ASSERT_EQ(fp32.losses.size(), 60u);
  ASSERT_EQ(bf16.losses.size(), 60u);
  const std::vector<double> fp32_means = window_means(fp32.losses, 10);
  const std::vector<double> bf16_means = window_means(bf16.losses, 10);
  double worst_window = 0.0;
  for (size_t i = 0; i < fp32_means.size(); ++i) {
    worst_window = std::max(worst_window, std::abs(fp32_means[i] - bf16_means[i]));
  }
  EXPECT_LT(fp32_means.back(), 0.6);
  EXPECT_LT(worst_window, 0.05) << "largest 10-step mean loss difference, bf16 weights vs fp32";
  EXPECT_NEAR(bf16.eval_accuracy, fp32.eval_accuracy, 0.05);
  EXPECT_NEAR(bf16.eval_loss, fp32.eval_loss, 0.05);
  std::cout << "[          ] bf16 weights vs fp32: largest 10-step mean loss difference "
            << worst_window << ", eval loss " << fp32.eval_loss << " / " << bf16.eval_loss
            << ", eval accuracy " << fp32.eval_accuracy << " / " << bf16.eval_accuracy << "\n";
}

TEST_F(MixedPrecisionRun, Fp16LogsItsLossScale) {
  const RunLog fp16 = train("fp16", "--set train.precision=fp16");
  ASSERT_EQ(fp16.losses.size(), 60u);
  ASSERT_TRUE(fp16.last_step.contains("loss_scale"));
  EXPECT_GE(fp16.last_step["loss_scale"].get<double>(), 1.0);
  EXPECT_LT(window_means(fp16.losses, 10).back(), 0.6);
}

TEST_F(MixedPrecisionRun, BenchMemoryShowsTheSavings) {
  const auto result = run_command(omnirm_binary() + " bench memory -c " + *dir_ +
                                  "/tiny.yaml --steps 2 --set model.num_layers=2");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  std::cout << result.output;
  // "fp32 + checkpointing   <peak> <ratio> <step peak> <ratio> ..." rows.
  auto step_ratio = [&](const std::string& name) {
    const std::regex row(name + R"(\s+[0-9.]+\s+[0-9.]+\s+[0-9.]+\s+([0-9.]+))");
    std::smatch match;
    EXPECT_TRUE(std::regex_search(result.output, match, row)) << name;
    return match.empty() ? 0.0 : std::stod(match[1]);
  };
  EXPECT_DOUBLE_EQ(step_ratio("fp32  "), 1.0);
  EXPECT_LT(step_ratio("fp32 \\+ checkpointing"), 0.9);
  EXPECT_LT(step_ratio("bf16  "), 1.0);
  EXPECT_LT(step_ratio("bf16 \\+ checkpointing"), step_ratio("bf16  "));
}

}  // namespace
