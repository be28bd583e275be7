// End-to-end training on media: `omnirm data synth` writes real image, video, audio and mesh
// files, `omnirm train` decodes them into the adapters; frozen adapters keep their weights;
// a corrupt media file is reported as `record <id> / <path>: what` and follows
// data.on_bad_record.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <string>

#include "omnirm/io/safetensors.h"
#include "support/omni_run.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::CommandResult;
using omnirm::testing::make_omni_run_dir;
using omnirm::testing::make_temp_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::OmniRun;
using omnirm::testing::read_file;
using omnirm::testing::run_command;

class Omni : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("omni"));
    OmniRun run;
    run.tasks = "ti2t,tv2t,ta2t,t23d";
    run.seed = 7;
    run.max_steps = 4;
    run.save_every = 2;
    run.keep_last = 5;
    ASSERT_EQ(make_omni_run_dir(*dir_, run), "");
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  static CommandResult train(const std::string& name, const std::string& extra) {
    return run_command(omnirm_binary() + " train -c " + *dir_ +
                       "/omni.yaml --set train.output_dir=" + out(name) + " " + extra);
  }
  static std::string out(const std::string& name) { return *dir_ + "/runs/" + name; }

  // Weights of a checkpoint by name.
  static std::map<std::string, at::Tensor> weights(const std::string& name, int step) {
    char step_dir[32];
    std::snprintf(step_dir, sizeof(step_dir), "step-%08d", step);
    const auto file =
        omnirm::io::load_safetensors(out(name) + "/checkpoints/" + step_dir + "/model.safetensors");
    std::map<std::string, at::Tensor> by_name;
    for (const auto& [key, tensor] : file.tensors) by_name[key] = tensor;
    return by_name;
  }

  // The first media path of `type` in the training file, relative to the data directory.
  static std::string first_media_path(const std::string& type) {
    const std::string text = read_file(*dir_ + "/data/train.jsonl");
    std::smatch match;
    const std::regex pattern("\"type\":\"" + type + "\",\"path\":\"([^\"]+)\"");
    if (!std::regex_search(text, match, pattern)) return "";
    return match[1].str();
  }

  static std::string* dir_;
};
std::string* Omni::dir_ = nullptr;

TEST_F(Omni, TrainsEveryAdapterAndEvaluatesPerTask) {
  const CommandResult run = train("all", "");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  for (const char* task : {"ti2t", "tv2t", "ta2t", "t23d"}) {
    EXPECT_NE(run.output.find(std::string("  ") + task + " "), std::string::npos) << task << "\n"
                                                                                  << run.output;
  }
  const auto first = weights("all", 2), last = weights("all", 4);
  for (const char* prefix : {"vision_tower.", "resampler.", "audio_tower.", "point_tower."}) {
    bool changed = false;
    for (const auto& [key, tensor] : last) {
      if (key.starts_with(prefix)) changed |= !at::equal(tensor, first.at(key));
    }
    EXPECT_TRUE(changed) << prefix << " did not train";
  }
}

TEST_F(Omni, FrozenAdaptersKeepTheirWeights) {
  const CommandResult run = train("frozen", "--set model.freeze_vision=true");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  const auto first = weights("frozen", 2), last = weights("frozen", 4);
  bool backbone_changed = false;
  for (const auto& [key, tensor] : last) {
    if (key.starts_with("vision_tower.") || key.starts_with("resampler.")) {
      EXPECT_TRUE(at::equal(tensor, first.at(key))) << key;
    } else if (key.starts_with("model.")) {
      backbone_changed |= !at::equal(tensor, first.at(key));
    }
  }
  EXPECT_TRUE(backbone_changed);
}

TEST_F(Omni, ACorruptMediaFileNamesRecordAndPathAndFollowsThePolicy) {
  // A copy of the data whose first training image is garbage.
  const std::string copy = *dir_ + "/corrupt";
  fs::remove_all(copy);
  fs::copy(*dir_ + "/data", copy, fs::copy_options::recursive);
  const std::string image = first_media_path("image");
  ASSERT_FALSE(image.empty());
  {
    std::ofstream garbage(copy + "/" + image, std::ios::binary | std::ios::trunc);
    garbage << "this is not a picture";
  }
  const std::string data = " --set data.train=" + copy + "/train.jsonl --set data.eval=";
  const CommandResult refused = train("corrupt-error", data);
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  const std::regex message("record [a-z0-9-]+ / [^ ]*" + image + ": ");
  EXPECT_TRUE(std::regex_search(refused.output, message)) << refused.output;
  EXPECT_NE(refused.output.find("data.on_bad_record"), std::string::npos) << refused.output;

  const CommandResult skipped = train("corrupt-skip", data + " --set data.on_bad_record=skip");
  ASSERT_EQ(skipped.exit_code, 0) << skipped.output;
  EXPECT_NE(skipped.output.find("bad records skipped while training"), std::string::npos)
      << skipped.output;
}

// Two ranks: micro-batches without audio or 3D still give every adapter a gradient (an
// explicit zero), so each step's all-reduce completes and the adapters train.
TEST_F(Omni, TwoRanksTrainWithMediaTheAdaptersASplitBatchMayLack) {
  const CommandResult run =
      run_command(omnirm_binary() + " launch --nproc-per-node 2 -- train -c " + *dir_ +
                  "/omni.yaml --set train.output_dir=" + out("two-ranks") +
                  " --set train.micro_batch_pairs=2 --set dist.timeout=60 --set data.eval=");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_NE(run.output.find("data parallel: 2 ranks"), std::string::npos) << run.output;
  const auto first = weights("two-ranks", 2), last = weights("two-ranks", 4);
  bool audio_changed = false;
  for (const auto& [key, tensor] : last) {
    if (key.starts_with("audio_tower.")) audio_changed |= !at::equal(tensor, first.at(key));
  }
  EXPECT_TRUE(audio_changed);
}

// The towers under ZeRO stages 2 and 3 (they stay whole in the root unit, reduced after
// backward whatever modalities a rank's micro-batch held), with activation checkpointing in
// the towers and the backbone and with the two-sequence layout: the weights of stage 0.
TEST_F(Omni, TheTowersTrainAtEveryZeroStage) {
  auto launch = [&](const std::string& name, const std::string& extra) {
    return run_command(omnirm_binary() + " launch --nproc-per-node 2 -- train -c " + *dir_ +
                       "/omni.yaml --set train.output_dir=" + out(name) +
                       " --set train.micro_batch_pairs=2 --set dist.timeout=60 --set data.eval= "
                       "--set model.prefix_sharing=false " +
                       extra);
  };
  const CommandResult stage0 = launch("zero-0", "");
  ASSERT_EQ(stage0.exit_code, 0) << stage0.output;
  const CommandResult stage3 =
      launch("zero-3", "--set dist.zero_stage=3 --set train.activation_checkpointing=1");
  ASSERT_EQ(stage3.exit_code, 0) << stage3.output;
  const auto reference = weights("zero-0", 4), sharded = weights("zero-3", 4);
  double worst = 0.0;
  for (const auto& [key, tensor] : reference) {
    // Key biases and the value head's bias get exactly zero gradient in exact arithmetic
    // (softmax and r_c - r_r do not see them): AdamW turns their rounding noise into full
    // steps, whatever the order of the sums, so they are left out.
    if (key.ends_with("k_proj.bias") || key == "score.bias") continue;
    const double norm = tensor.to(at::kDouble).norm().item<double>();
    const double diff =
        (sharded.at(key).to(at::kDouble) - tensor.to(at::kDouble)).norm().item<double>();
    worst = std::max(worst, diff / std::max(norm, 1e-12));
  }
  // The ranks sum in another order: fp32 noise, which AdamW turns into at most this much after
  // four steps (seen: 1.4e-5).
  EXPECT_LE(worst, 1e-4);
  bool audio_changed = false;
  const auto first = weights("zero-3", 2);
  for (const auto& [key, tensor] : sharded) {
    if (key.starts_with("audio_tower.")) audio_changed |= !at::equal(tensor, first.at(key));
  }
  EXPECT_TRUE(audio_changed);
  const CommandResult bf16 =
      launch("zero-2-bf16",
             "--set dist.zero_stage=2 --set train.param_dtype=bf16 --set train.precision=bf16");
  EXPECT_EQ(bf16.exit_code, 0) << bf16.output;
}

TEST_F(Omni, ATextOnlyModelRefusesMediaNamingTheKey) {
  const CommandResult run = train("text-only", "--set model.vision_layers=0");
  EXPECT_EQ(run.exit_code, 2) << run.output;
  EXPECT_NE(run.output.find("set model.vision_layers > 0"), std::string::npos) << run.output;
}

}  // namespace
