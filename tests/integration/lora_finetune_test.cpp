// LoRA fine-tuning from an export, through the omnirm binary: a model is trained, exported,
// and fine-tuned with `--init-from EXPORT --set lora.rank=4` on the same kind of pairs. Only
// the adapters and the value head change (the base weights in the fine-tune's checkpoint are
// bitwise those of the export); the merged export scores every pair like the unmerged
// checkpoint; --adapters-only writes PEFT's files; a model shape or file that does not fit is
// refused with a one-line error.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "omnirm/io/safetensors.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::make_temp_dir;
using omnirm::testing::make_tiny_run_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::read_file;
using omnirm::testing::run_command;
using omnirm::testing::TinyRun;

std::map<std::string, at::Tensor> tensors_of(const std::string& path) {
  std::map<std::string, at::Tensor> out;
  for (auto& [name, tensor] : omnirm::io::load_safetensors(path).tensors) out[name] = tensor;
  return out;
}

// reward_chosen / reward_rejected of every line of an `omnirm score` output.
std::vector<double> rewards_of(const std::string& path) {
  std::vector<double> rewards;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    const auto record = nlohmann::json::parse(line);
    rewards.push_back(record["reward_chosen"].get<double>());
    rewards.push_back(record["reward_rejected"].get<double>());
  }
  return rewards;
}

class LoraFinetune : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("lora_finetune"));
    ASSERT_EQ(make_tiny_run_dir(*dir_, TinyRun{}), "");
    const auto base = run_command(omnirm_binary() + " train -c " + *dir_ +
                                  "/tiny.yaml --set train.output_dir=" + *dir_ + "/base");
    ASSERT_EQ(base.exit_code, 0) << base.output;
    const auto exported =
        run_command(omnirm_binary() + " export -m " + *dir_ + "/base -o " + *dir_ + "/base-export");
    ASSERT_EQ(exported.exit_code, 0) << exported.output;
    // The fine-tune names no tokenizer: it comes from the export.
    const auto tuned =
        run_command(omnirm_binary() + " train -c " + *dir_ + "/tiny.yaml --init-from " + *dir_ +
                    "/base-export --set data.tokenizer= --set lora.rank=4 --set lora.alpha=8 --set "
                    "train.lr=0.01 --set train.output_dir=" +
                    *dir_ + "/tuned");
    ASSERT_EQ(tuned.exit_code, 0) << tuned.output;
    output_ = new std::string(tuned.output);
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete output_;
  }
  static std::string* dir_;
  static std::string* output_;
};
std::string* LoraFinetune::dir_ = nullptr;
std::string* LoraFinetune::output_ = nullptr;

TEST_F(LoraFinetune, OnlyAdaptersAndHeadChange) {
  EXPECT_NE(output_->find("initialised from"), std::string::npos) << *output_;
  EXPECT_NE(output_->find("LoRA: rank 4 on 7 projections"), std::string::npos) << *output_;
  const auto base = tensors_of(*dir_ + "/base-export/model.safetensors");
  const auto tuned = tensors_of(*dir_ + "/tuned/checkpoints/step-00000008/model.safetensors");
  int adapters = 0, unchanged = 0;
  for (const auto& [name, tensor] : tuned) {
    if (name.find(".lora_") != std::string::npos) {
      ++adapters;
      if (name.find(".lora_B.") != std::string::npos) {
        EXPECT_GT(tensor.abs().sum().item<double>(), 0.0) << name << " did not train";
      }
      continue;
    }
    if (name.starts_with("score.")) {
      if (name == "score.weight") EXPECT_FALSE(at::equal(tensor, base.at(name))) << name;
      continue;
    }
    ASSERT_TRUE(base.count(name)) << name;
    EXPECT_TRUE(at::equal(tensor, base.at(name))) << name << " changed under LoRA";
    ++unchanged;
  }
  EXPECT_EQ(adapters, 14);  // A and B of 7 projections in the one layer
  EXPECT_GT(unchanged, 5);
}

TEST_F(LoraFinetune, MergedExportScoresLikeTheUnmergedModel) {
  const std::string merged = *dir_ + "/tuned-export";
  const auto exported =
      run_command(omnirm_binary() + " export -m " + *dir_ + "/tuned -o " + merged);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  for (const auto& [name, tensor] : tensors_of(merged + "/model.safetensors")) {
    EXPECT_EQ(name.find(".lora_"), std::string::npos) << name;
  }
  const std::string pairs = *dir_ + "/data/eval.jsonl";
  const auto unmerged_scores = run_command(omnirm_binary() + " score -m " + *dir_ + "/tuned -i " +
                                           pairs + " -o " + *dir_ + "/u.jsonl");
  ASSERT_EQ(unmerged_scores.exit_code, 0) << unmerged_scores.output;
  const auto merged_scores = run_command(omnirm_binary() + " score -m " + merged + " -i " + pairs +
                                         " -o " + *dir_ + "/m.jsonl");
  ASSERT_EQ(merged_scores.exit_code, 0) << merged_scores.output;
  const std::vector<double> u = rewards_of(*dir_ + "/u.jsonl");
  const std::vector<double> m = rewards_of(*dir_ + "/m.jsonl");
  ASSERT_EQ(u.size(), m.size());
  ASSERT_EQ(u.size(), 64u);
  double worst = 0.0;
  for (size_t i = 0; i < u.size(); ++i) worst = std::max(worst, std::abs(u[i] - m[i]));
  EXPECT_LT(worst, 1e-4);
  // The base model scores differently: the fine-tune changed something.
  const auto base_scores = run_command(omnirm_binary() + " score -m " + *dir_ + "/base-export -i " +
                                       pairs + " -o " + *dir_ + "/b.jsonl");
  ASSERT_EQ(base_scores.exit_code, 0) << base_scores.output;
  const std::vector<double> b = rewards_of(*dir_ + "/b.jsonl");
  double moved = 0.0;
  for (size_t i = 0; i < u.size(); ++i) moved = std::max(moved, std::abs(u[i] - b[i]));
  EXPECT_GT(moved, 1e-3);
}

TEST_F(LoraFinetune, AdaptersOnlyExportIsPeftShaped) {
  const std::string out = *dir_ + "/adapters";
  const auto exported =
      run_command(omnirm_binary() + " export --adapters-only -m " + *dir_ + "/tuned -o " + out);
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const auto tensors = tensors_of(out + "/adapter_model.safetensors");
  EXPECT_TRUE(tensors.count("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
  EXPECT_TRUE(tensors.count("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"));
  EXPECT_TRUE(tensors.count("base_model.model.score.weight"));
  const auto config = nlohmann::json::parse(read_file(out + "/adapter_config.json"));
  EXPECT_EQ(config["peft_type"], "LORA");
  EXPECT_EQ(config["r"], 4);
  EXPECT_EQ(config["target_modules"].size(), 7u);
  // A model without adapters has none to export.
  const auto refused = run_command(omnirm_binary() + " export --adapters-only -m " + *dir_ +
                                   "/base -o " + *dir_ + "/none");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("has no LoRA adapters"), std::string::npos) << refused.output;
}

TEST_F(LoraFinetune, AMissingSourceIsRefusedInOneLine) {
  const auto refused =
      run_command(omnirm_binary() + " train -c " + *dir_ + "/tiny.yaml --init-from " + *dir_ +
                  "/nowhere --set train.output_dir=" + *dir_ + "/x");
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.output.find("train.init_from"), std::string::npos) << refused.output;
}

}  // namespace
