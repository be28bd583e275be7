// `omnirm export` of a model with every media tower: the directory is in MiniCPM-o-2.6's
// layout (llm.*, vpm.*, resampler.*, apm.*, audio_projection_layer.*, omnirm_* for what
// MiniCPM-o lacks) with LLaMA-Factory's value_head.safetensors beside it; `omnirm model
// inspect` maps every tensor; loading it back (as `score` / `eval` do, and as --init-from
// does) gives the trained parameters bit for bit and the same rewards on the eval pairs, and
// an export missing a tensor or read with another vocabulary is refused; --layout qwen2
// keeps the Qwen2 sequence-classification names, a bad --layout exits 2.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "omnirm/infer/loaded_model.h"
#include "omnirm/io/safetensors.h"
#include "omnirm/io/safetensors_checkpoint.h"
#include "omnirm/train/init_from.h"
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

class MiniCpmoExport : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("minicpmo-export"));
    // The resampler works at the vision width (16), narrower than the LLM (32).
    OmniRun run;
    run.tasks = "ti2t,tv2t,ta2t,t23d";
    run.seed = 11;
    run.tower_hidden = 16;
    run.tower_intermediate = 32;
    run.output_dir = *dir_ + "/run";
    ASSERT_EQ(make_omni_run_dir(*dir_, run), "");
    const CommandResult train = run_command(omnirm_binary() + " train -c " + *dir_ + "/omni.yaml");
    ASSERT_EQ(train.exit_code, 0) << train.output;
    const CommandResult exported =
        run_command(omnirm_binary() + " export -m " + *dir_ + "/run -o " + export_dir());
    ASSERT_EQ(exported.exit_code, 0) << exported.output;
    EXPECT_NE(exported.output.find("MiniCPM-o-2.6 layout"), std::string::npos) << exported.output;
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }
  static std::string export_dir() { return *dir_ + "/export"; }

  static std::map<std::string, at::Tensor> tensors_of(const std::string& path) {
    std::map<std::string, at::Tensor> by_name;
    for (auto& [name, tensor] : omnirm::io::read_safetensors_checkpoint(path).tensors)
      by_name[name] = tensor;
    return by_name;
  }

  static std::map<std::string, at::Tensor> state_of(torch::nn::Module& model) {
    std::map<std::string, at::Tensor> state;
    for (const auto& item : model.named_parameters()) state[item.key()] = item.value();
    for (const auto& item : model.named_buffers()) state[item.key()] = item.value();
    return state;
  }

  // (reward_chosen, reward_rejected) of every line of `omnirm score -m model` on the eval pairs.
  static std::vector<double> scores(const std::string& model, const std::string& name) {
    const std::string out = *dir_ + "/" + name + ".jsonl";
    const CommandResult scored = run_command(omnirm_binary() + " score -m " + model + " -i " +
                                             *dir_ + "/data/eval.jsonl -o " + out);
    EXPECT_EQ(scored.exit_code, 0) << scored.output;
    std::vector<double> rewards;
    std::istringstream lines(read_file(out));
    for (std::string line; std::getline(lines, line);) {
      const nlohmann::json record = nlohmann::json::parse(line);
      rewards.push_back(record["reward_chosen"].get<double>());
      rewards.push_back(record["reward_rejected"].get<double>());
    }
    return rewards;
  }

  static std::string* dir_;
};
std::string* MiniCpmoExport::dir_ = nullptr;

TEST_F(MiniCpmoExport, WritesMiniCpmoNamesAndAValueHead) {
  const auto weights = tensors_of(export_dir());
  for (const char* name :
       {"llm.model.embed_tokens.weight", "llm.model.layers.0.self_attn.q_proj.bias",
        "llm.model.norm.weight", "vpm.embeddings.patch_embedding.weight",
        "vpm.embeddings.position_embedding.weight", "vpm.encoder.layers.0.mlp.fc1.weight",
        "vpm.post_layernorm.weight", "resampler.query", "resampler.kv_proj.weight",
        "resampler.attn.in_proj_weight", "resampler.ln_post.bias", "resampler.proj",
        "apm.conv1.weight", "apm.embed_positions.weight", "apm.layers.0.fc1.weight",
        "apm.layer_norm.weight", "audio_projection_layer.linear1.weight",
        "omnirm_resampler.temporal_embedding.weight"})
    EXPECT_TRUE(weights.count(name)) << name;
  size_t point_tensors = 0;
  for (const auto& [name, tensor] : weights) {
    for (const char* omnirm_prefix :
         {"model.", "score.", "vision_tower.", "audio_tower.", "point_tower.", "v_head."})
      EXPECT_NE(name.rfind(omnirm_prefix, 0), 0u) << name;
    point_tensors += name.rfind("omnirm_point_tower.", 0) == 0;
  }
  EXPECT_GT(point_tensors, 0u);
  // MiniCPM's proj is applied as x @ proj: [resampler width, LLM width].
  EXPECT_EQ(weights.at("resampler.proj").sizes(), (std::vector<int64_t>{16, 32}));

  const auto head = omnirm::io::load_safetensors(export_dir() + "/value_head.safetensors");
  std::map<std::string, std::vector<int64_t>> head_shapes;
  for (const auto& [name, tensor] : head.tensors) head_shapes[name] = tensor.sizes().vec();
  EXPECT_EQ(head_shapes, (std::map<std::string, std::vector<int64_t>>{
                             {"v_head.summary.weight", {1, 32}}, {"v_head.summary.bias", {1}}}));

  const nlohmann::json config = nlohmann::json::parse(read_file(export_dir() + "/config.json"));
  EXPECT_EQ(config["model_type"], "minicpmo");
  EXPECT_EQ(config["architectures"], nlohmann::json::array({"MiniCPMO"}));
  EXPECT_EQ(config["vision_config"]["num_hidden_layers"], 2);  // one dropped on load
  EXPECT_EQ(config["omnirm_resampler_hidden"], 16);
  EXPECT_FALSE(config.contains("omnirm_score_bias"));  // the value head has its bias
  EXPECT_TRUE(fs::exists(export_dir() + "/omnirm.yaml"));
}

TEST_F(MiniCpmoExport, InspectMapsEveryTensor) {
  const CommandResult inspect = run_command(omnirm_binary() + " model inspect " + export_dir());
  ASSERT_EQ(inspect.exit_code, 0) << inspect.output;
  const size_t tensors = tensors_of(export_dir()).size() + 2;  // + the value head
  EXPECT_NE(inspect.output.find("layout: MiniCPM-o-2.6 (qwen2 decoder) + LLaMA-Factory value head"),
            std::string::npos)
      << inspect.output;
  EXPECT_NE(
      inspect.output.find("mapping: " + std::to_string(tensors) + " mapped, 0 ignored, 0 unknown"),
      std::string::npos)
      << inspect.output;
  EXPECT_NE(inspect.output.find("config.json: hidden 32, layers 1"), std::string::npos)
      << inspect.output;
}

TEST_F(MiniCpmoExport, LoadsBackBitForBitAndScoresAlike) {
  omnirm::infer::LoadedModel trained = omnirm::infer::load_model_dir(*dir_ + "/run");
  omnirm::infer::LoadedModel exported = omnirm::infer::load_model_dir(export_dir());
  const auto before = state_of(*trained.model);
  const auto after = state_of(*exported.model);
  ASSERT_EQ(before.size(), after.size());
  for (const auto& [name, tensor] : before) {
    ASSERT_TRUE(after.count(name)) << name;
    EXPECT_TRUE(at::equal(tensor, after.at(name))) << name;
  }

  // --init-from an export: the model shape from omnirm.yaml, every weight from the files.
  omnirm::Config config = trained.config;
  config.train.init_from = export_dir();
  config.data.tokenizer = "";
  const omnirm::Config resolved = omnirm::train::resolve_init_from(config);
  omnirm::model::RewardModel initial(resolved.model, exported.model->vocab_size());
  EXPECT_EQ(omnirm::train::load_initial_weights(*initial, export_dir()), "every weight");
  for (const auto& item : initial->named_parameters())
    EXPECT_TRUE(at::equal(item.value(), before.at(item.key()))) << item.key();

  const std::vector<double> run_rewards = scores(*dir_ + "/run", "run-scores");
  const std::vector<double> export_rewards = scores(export_dir(), "export-scores");
  ASSERT_EQ(run_rewards.size(), export_rewards.size());
  ASSERT_FALSE(run_rewards.empty());
  // Rewards that differ between responses, so equal lists say something.
  EXPECT_NE(*std::min_element(run_rewards.begin(), run_rewards.end()),
            *std::max_element(run_rewards.begin(), run_rewards.end()));
  double worst = 0.0;
  for (size_t i = 0; i < run_rewards.size(); ++i)
    worst = std::max(worst, std::abs(run_rewards[i] - export_rewards[i]));
  std::printf("MiniCPM-o export round trip: %zu rewards, max abs difference %g\n",
              run_rewards.size(), worst);
  EXPECT_EQ(worst, 0.0);
}

// An export must account for every parameter: with a tensor taken out, or read with a
// tokenizer of another vocabulary, loading stops with one line naming what does not fit.
TEST_F(MiniCpmoExport, AnIncompleteOrMismatchedExportIsRefusedInOneLine) {
  const std::string tampered = *dir_ + "/export-tampered";
  fs::copy(export_dir(), tampered, fs::copy_options::recursive);
  omnirm::io::NamedTensors kept;
  for (auto& [name, tensor] : omnirm::io::load_safetensors(tampered + "/model.safetensors").tensors)
    if (name != "omnirm_resampler.temporal_embedding.weight")
      kept.emplace_back(name, tensor.clone());
  omnirm::io::save_safetensors(tampered + "/model.safetensors", kept);
  const CommandResult scored = run_command(omnirm_binary() + " score -m " + tampered + " -i " +
                                           *dir_ + "/data/eval.jsonl -o " + *dir_ + "/t.jsonl");
  EXPECT_EQ(scored.exit_code, 2) << scored.output;
  EXPECT_NE(scored.output.find("missing [resampler.temporal_embedding.weight]"), std::string::npos)
      << scored.output;

  const std::string data = *dir_ + "/data";
  ASSERT_EQ(run_command(omnirm_binary() + " tokenizer train --corpus " + data +
                        "/corpus.txt --out " + data + "/tok450 --vocab-size 450")
                .exit_code,
            0);
  const CommandResult init =
      run_command(omnirm_binary() + " train -c " + *dir_ + "/omni.yaml --init-from " +
                  export_dir() + " --set data.tokenizer=" + data +
                  "/tok450.model --set train.output_dir=" + *dir_ + "/run-init");
  EXPECT_EQ(init.exit_code, 2) << init.output;
  EXPECT_NE(init.output.find("train.init_from " + export_dir()), std::string::npos) << init.output;
  EXPECT_NE(init.output.find("llm.model.embed_tokens.weight"), std::string::npos) << init.output;
  EXPECT_NE(init.output.find("data.tokenizer"), std::string::npos) << init.output;
}

TEST_F(MiniCpmoExport, Qwen2LayoutOnRequestAndABadLayoutExitsTwo) {
  const std::string qwen2 = *dir_ + "/export-qwen2";
  const CommandResult exported =
      run_command(omnirm_binary() + " export -m " + *dir_ + "/run -o " + qwen2 + " --layout qwen2");
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  const auto weights = tensors_of(qwen2);
  EXPECT_TRUE(weights.count("model.embed_tokens.weight"));
  EXPECT_TRUE(weights.count("score.weight"));
  EXPECT_TRUE(weights.count("vision_tower.post_layernorm.weight"));
  EXPECT_EQ(nlohmann::json::parse(read_file(qwen2 + "/config.json"))["model_type"], "qwen2");
  auto trained = omnirm::infer::load_model_dir(*dir_ + "/run");
  const auto loaded = omnirm::infer::load_model_dir(qwen2);
  const auto before = state_of(*trained.model);
  for (const auto& item : loaded.model->named_parameters())
    EXPECT_TRUE(at::equal(item.value(), before.at(item.key()))) << item.key();

  const CommandResult bad = run_command(omnirm_binary() + " export -m " + *dir_ + "/run -o " +
                                        *dir_ + "/export-bad --layout minicpm");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
  EXPECT_NE(bad.output.find("--layout"), std::string::npos) << bad.output;
  EXPECT_FALSE(fs::exists(*dir_ + "/export-bad"));
}

}  // namespace
