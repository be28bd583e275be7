// ZeRO stages 2 and 3, bf16 parameters and re-sharding resume through real omnirm processes
// (`omnirm launch`, Gloo on loopback): stages 2 and 3 (with activation checkpointing, with
// LoRA) reach stage 0's weights; a killed run
// resumes bit for bit at every stage, and on another world size and stage continues the same
// run; a missing shard, another model or another parameter layout is refused naming the file;
// a model whose fp32 state exceeds train.memory_budget_mb trains under stage 3 and is refused
// under stage 0 before its first step; `omnirm plan`, `bench memory --nproc` and `export` of a
// sharded checkpoint.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "omnirm/io/safetensors.h"
#include "omnirm/io/safetensors_checkpoint.h"
#include "support/test_support.h"

namespace {

namespace fs = std::filesystem;
using omnirm::testing::CommandResult;
using omnirm::testing::make_temp_dir;
using omnirm::testing::make_tiny_run_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::read_file;
using omnirm::testing::run_command;
using omnirm::testing::TinyRun;
using omnirm::testing::write_file;

// Per-tensor tolerance between two runs that differ only in how the ranks sum gradients
// (all-reduce vs reduce-scatter, other world sizes): ‖a − b‖₂ ≤ 1e-5 · ‖b‖₂, the tolerance of
// data parallelism against one process (fp32 sums in another order differ in the last bits,
// AdamW's division by √v amplifies them a little).
constexpr double kRelativeTolerance = 1e-5;

class Zero : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(make_temp_dir("zero"));
    // Biases off, as in the data-parallel tests: AdamW turns the rounding noise of gradients
    // that are zero in exact arithmetic into full-size steps.
    TinyRun run;
    run.eval_pairs = 16;
    run.seed = 5;
    run.micro_batch_pairs = 2;
    run.extra_model_yaml = "  qkv_bias: false\n  head_bias: false\n";
    ASSERT_EQ(make_tiny_run_dir(*dir_, run), "");
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete dir_;
  }

  static std::string out(const std::string& name) { return *dir_ + "/runs/" + name; }
  // Two decoder layers, so that stage 3 gathers blocks one after another.
  static std::string train_args(const std::string& name, const std::string& extra) {
    return "train -c " + *dir_ +
           "/tiny.yaml --set model.num_layers=2 --set train.output_dir=" + out(name) + " " + extra;
  }
  static CommandResult launch(int ranks, const std::string& name, const std::string& extra = "",
                              const std::string& env = "") {
    return run_command(env + " " + omnirm_binary() + " launch --nproc-per-node " +
                       std::to_string(ranks) + " -- " + train_args(name, extra));
  }
  static std::string checkpoint(const std::string& name, int step = 8) {
    return out(name) + "/checkpoints/step-0000000" + std::to_string(step);
  }
  static std::map<std::string, at::Tensor> weights(const std::string& name, int step = 8) {
    const auto file = omnirm::io::load_safetensors(checkpoint(name, step) + "/model.safetensors");
    return {file.tensors.begin(), file.tensors.end()};
  }

  static std::string* dir_;
};
std::string* Zero::dir_ = nullptr;

// The largest per-tensor ‖a − b‖ / ‖b‖.
double max_relative_difference(const std::map<std::string, at::Tensor>& a,
                               const std::map<std::string, at::Tensor>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0.0;
  for (const auto& [name, tensor] : b) {
    if (a.count(name) == 0) {
      ADD_FAILURE() << "missing " << name;
      continue;
    }
    const at::Tensor other = a.at(name).to(at::kDouble);
    const double norm = tensor.to(at::kDouble).norm().item<double>();
    const double diff = (other - tensor.to(at::kDouble)).norm().item<double>();
    worst = std::max(worst, diff / std::max(norm, 1e-12));
  }
  return worst;
}

TEST_F(Zero, StagesTwoAndThreeReachTheWeightsOfStageZero) {
  const CommandResult stage0 = launch(2, "s0");
  ASSERT_EQ(stage0.exit_code, 0) << stage0.output;
  const CommandResult stage2 = launch(2, "s2", "--set dist.zero_stage=2");
  ASSERT_EQ(stage2.exit_code, 0) << stage2.output;
  EXPECT_NE(stage2.output.find("dist.zero_stage 2"), std::string::npos) << stage2.output;
  const CommandResult stage3 =
      launch(2, "s3", "--set dist.zero_stage=3 --set train.activation_checkpointing=1");
  ASSERT_EQ(stage3.exit_code, 0) << stage3.output;
  EXPECT_LE(max_relative_difference(weights("s2"), weights("s0")), kRelativeTolerance);
  EXPECT_LE(max_relative_difference(weights("s3"), weights("s0")), kRelativeTolerance);
  // The tolerance is far below what four more steps change.
  EXPECT_GT(max_relative_difference(weights("s0", 4), weights("s0")), 100 * kRelativeTolerance);
  // Each rank holds its own optimizer shard.
  EXPECT_TRUE(fs::exists(checkpoint("s3") + "/rank-00001-optimizer.safetensors"));
  EXPECT_FALSE(fs::exists(checkpoint("s0") + "/rank-00001-optimizer.safetensors"));

  // LoRA: the adapters and the head shard; the frozen base stays whole on each rank. The B
  // matrices start at zero and are still small after 8 steps, so the same rounding noise is a
  // larger share of their norm: 1e-4.
  const std::string lora = "--set lora.rank=4 --set train.lr=0.01";
  const CommandResult lora0 = launch(2, "lora0", lora);
  ASSERT_EQ(lora0.exit_code, 0) << lora0.output;
  const CommandResult lora3 = launch(2, "lora3", lora + " --set dist.zero_stage=3");
  ASSERT_EQ(lora3.exit_code, 0) << lora3.output;
  EXPECT_LE(max_relative_difference(weights("lora3"), weights("lora0")), 10 * kRelativeTolerance);
}

TEST_F(Zero, AKilledRunResumesBitIdenticallyAtEveryStage) {
  for (const std::string stage : {"0", "1", "2", "3"}) {
    const std::string set =
        "--set train.param_dtype=bf16 --set train.precision=bf16 --set dist.zero_stage=" + stage;
    const CommandResult straight = launch(2, "straight" + stage, set);
    ASSERT_EQ(straight.exit_code, 0) << straight.output;
    const CommandResult killed = launch(2, "killed" + stage, set, "OMNIRM_FAULT_KILL_AT_STEP=6");
    EXPECT_NE(killed.exit_code, 0) << killed.output;
    EXPECT_FALSE(fs::exists(checkpoint("killed" + stage)));
    const CommandResult resumed = launch(2, "killed" + stage, set + " --resume auto");
    ASSERT_EQ(resumed.exit_code, 0) << resumed.output;
    EXPECT_NE(resumed.output.find("resumed from"), std::string::npos) << resumed.output;
    EXPECT_EQ(read_file(checkpoint("straight" + stage) + "/model.safetensors"),
              read_file(checkpoint("killed" + stage) + "/model.safetensors"))
        << "dist.zero_stage=" << stage;
    EXPECT_EQ(read_file(checkpoint("straight" + stage) + "/rank-00000-optimizer.safetensors"),
              read_file(checkpoint("killed" + stage) + "/rank-00000-optimizer.safetensors"))
        << "dist.zero_stage=" << stage;
  }
}

TEST_F(Zero, AResumeOnAnotherWorldSizeAndStageContinuesTheRun) {
  // 4 ranks at stage 3, killed after step 6, continued on 2 ranks at stage 2.
  const CommandResult four = launch(4, "four", "--set dist.zero_stage=3");
  ASSERT_EQ(four.exit_code, 0) << four.output;
  const CommandResult killed =
      launch(4, "four-to-two", "--set dist.zero_stage=3", "OMNIRM_FAULT_KILL_AT_STEP=6");
  EXPECT_NE(killed.exit_code, 0) << killed.output;
  const CommandResult two = launch(2, "four-to-two", "--set dist.zero_stage=2 --resume auto");
  ASSERT_EQ(two.exit_code, 0) << two.output;
  EXPECT_NE(two.output.find("re-sharded: 4 rank(s) at dist.zero_stage 3"), std::string::npos)
      << two.output;
  EXPECT_LE(max_relative_difference(weights("four-to-two"), weights("four")), kRelativeTolerance);

  // 2 ranks on the replicated ZeRO-1 path, continued on 4 ranks at stage 3.
  const CommandResult pair = launch(2, "pair", "--set dist.zero_stage=1");
  ASSERT_EQ(pair.exit_code, 0) << pair.output;
  const CommandResult cut =
      launch(2, "two-to-four", "--set dist.zero_stage=1", "OMNIRM_FAULT_KILL_AT_STEP=6");
  EXPECT_NE(cut.exit_code, 0) << cut.output;
  const CommandResult grown = launch(4, "two-to-four", "--set dist.zero_stage=3 --resume auto");
  ASSERT_EQ(grown.exit_code, 0) << grown.output;
  EXPECT_LE(max_relative_difference(weights("two-to-four"), weights("pair")), kRelativeTolerance);
}

TEST_F(Zero, BrokenOrForeignCheckpointsAreRefusedNamingTheFile) {
  const CommandResult killed =
      launch(2, "refused", "--set dist.zero_stage=2", "OMNIRM_FAULT_KILL_AT_STEP=6");
  EXPECT_NE(killed.exit_code, 0) << killed.output;
  const std::string metrics_before = read_file(out("refused") + "/metrics.jsonl");
  const std::string step4 = checkpoint("refused", 4);

  // Another model: the trainable shapes differ.
  const CommandResult wider = launch(
      2, "refused", "--set dist.zero_stage=2 --set model.intermediate_size=96 --resume auto");
  EXPECT_EQ(wider.exit_code, 2) << wider.output;
  EXPECT_NE(wider.output.find(step4 + "/trainer_state.json: the checkpoint trains"),
            std::string::npos)
      << wider.output;
  // Another parameter layout: LoRA trains other tensors.
  const CommandResult lora =
      launch(2, "refused", "--set dist.zero_stage=2 --set lora.rank=4 --resume auto");
  EXPECT_EQ(lora.exit_code, 2) << lora.output;
  EXPECT_NE(lora.output.find("resume with the model, lora and freeze_* settings"),
            std::string::npos)
      << lora.output;
  // A missing rank's shard.
  fs::remove(step4 + "/rank-00001-optimizer.safetensors");
  const CommandResult missing = launch(2, "refused", "--set dist.zero_stage=2 --resume auto");
  EXPECT_EQ(missing.exit_code, 2) << missing.output;
  EXPECT_NE(missing.output.find(step4 + "/rank-00001-optimizer.safetensors: missing"),
            std::string::npos)
      << missing.output;
  EXPECT_EQ(read_file(out("refused") + "/metrics.jsonl"), metrics_before);  // nothing written
}

TEST_F(Zero, BadSettingsAreRefusedBeforeAnythingIsWritten) {
  const struct {
    const char* settings;
    const char* message;
  } cases[] = {
      {"--set dist.zero_stage=4", "dist.zero_stage must be 0, 1, 2 or 3, got 4"},
      {"--set dist.zero_stage=2 --set train.precision=fp16",
       "dist.zero_stage: stage 2 has no fp16 loss scaling"},
      {"--set train.param_dtype=bf16", "train.param_dtype: bf16 parameters compute in bf16"},
      {"--set dist.zero_stage=3 --set data.micro_batch_tokens=512",
       "data.micro_batch_tokens: token-budget micro-batches"},
      {"--set dist.reduce_dtype=bf16", "dist.reduce_dtype: bf16 reduction needs"},
  };
  int i = 0;
  for (const auto& c : cases) {
    const std::string name = "bad" + std::to_string(i++);
    const CommandResult result = launch(2, name, c.settings);
    EXPECT_EQ(result.exit_code, 2) << c.settings << "\n" << result.output;
    EXPECT_NE(result.output.find(c.message), std::string::npos) << result.output;
    EXPECT_FALSE(fs::exists(out(name))) << c.settings;
  }
}

TEST_F(Zero, AModelBeyondTheBudgetTrainsUnderStageThreeAndIsRefusedUnderStageZero) {
  // 12.7M parameters: 203 MB (194 MiB) of fp32 weights, gradients and AdamW state, 228 MB at
  // stage 0 with bf16 weights; the budget is 128 MiB per rank.
  const std::string model =
      "--set model.hidden_size=256 --set model.num_layers=16 --set model.intermediate_size=768 "
      "--set train.param_dtype=bf16 --set train.precision=bf16 "
      "--set train.activation_checkpointing=1 --set train.memory_budget_mb=128 "
      "--set train.max_steps=2 --set train.save_every=0 --set data.eval=";
  const CommandResult refused = launch(4, "budget0", model + " --set dist.zero_stage=0");
  EXPECT_EQ(refused.exit_code, 2) << refused.output;
  EXPECT_NE(refused.output.find("train.memory_budget_mb: 128 MiB per rank, but the plan for "
                                "dist.zero_stage 0 on 4 rank(s) needs"),
            std::string::npos)
      << refused.output;
  EXPECT_NE(refused.output.find("set dist.zero_stage: 1"), std::string::npos) << refused.output;
  EXPECT_FALSE(fs::exists(out("budget0")));
  const CommandResult trained = launch(4, "budget3", model + " --set dist.zero_stage=3");
  EXPECT_EQ(trained.exit_code, 0) << trained.output;
  EXPECT_TRUE(fs::exists(checkpoint("budget3", 2) + "/rank-00003-optimizer.safetensors"));
}

TEST_F(Zero, PlanPrintsEveryStageFromAConfigOrAConfigJson) {
  const CommandResult plan = run_command(omnirm_binary() + " plan -c " + *dir_ +
                                         "/tiny.yaml --gpus 4 --gpu-memory 1GB --peak-tflops 1");
  ASSERT_EQ(plan.exit_code, 0) << plan.output;
  for (const char* row : {"\n0      replicated", "\n2      sharded", "\n3      sharded",
                          "smallest stage that fits: 0", "per step", "notes:"}) {
    EXPECT_NE(plan.output.find(row), std::string::npos) << row << "\n" << plan.output;
  }
  // Only config.json is read from --init-from.
  const std::string hf = *dir_ + "/hf-config";
  fs::create_directories(hf);
  write_file(hf + "/config.json",
             R"({"model_type": "qwen2", "hidden_size": 64, "num_hidden_layers": 3,
                 "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 128,
                 "vocab_size": 1000, "rope_theta": 10000.0, "rms_norm_eps": 1e-6})");
  const CommandResult from_json = run_command(omnirm_binary() + " plan -c " + *dir_ +
                                              "/tiny.yaml --init-from " + hf + " --gpus 2");
  ASSERT_EQ(from_json.exit_code, 0) << from_json.output;
  // 1000·64 embedding + 3 layers + norm + head.
  const int64_t layer = 64 * 64 + 64 + 2 * (64 * 32 + 32) + 64 * 64 + 3 * 64 * 128 + 2 * 64;
  const int64_t total = 1000 * 64 + 3 * layer + 64 + 65;
  char expected[64];
  std::snprintf(expected, sizeof(expected), "model: %.3f B parameters", double(total) / 1e9);
  EXPECT_NE(from_json.output.find(expected), std::string::npos) << expected << "\n"
                                                                << from_json.output;
  const CommandResult bad =
      run_command(omnirm_binary() + " plan -c " + *dir_ + "/tiny.yaml --gpus 0");
  EXPECT_EQ(bad.exit_code, 2) << bad.output;
}

TEST_F(Zero, BenchMemoryMeasuresEveryStageBesideThePlan) {
  const CommandResult bench =
      run_command(omnirm_binary() + " bench memory -c " + *dir_ +
                  "/tiny.yaml --set model.num_layers=2 --set train.param_dtype=bf16 "
                  "--set train.precision=bf16 --nproc 2 --steps 1");
  ASSERT_EQ(bench.exit_code, 0) << bench.output;
  for (const char* row :
       {"stage 0 (sharded optimizer)", "stage 3 (sharded optimizer)", "  rank 1 measured", "  plan",
        "measured peak / plan total", "ratio to stage 0"}) {
    EXPECT_NE(bench.output.find(row), std::string::npos) << row << "\n" << bench.output;
  }
}

TEST_F(Zero, ExportConsolidatesTheShardedMasterWeights) {
  const std::string set =
      "--set train.param_dtype=bf16 --set train.precision=bf16 --set dist.zero_stage=3";
  const CommandResult trained = launch(2, "export3", set);
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  const std::string exported = out("export3-hf");
  const CommandResult exporting =
      run_command(omnirm_binary() + " export -m " + out("export3") + " -o " + exported);
  ASSERT_EQ(exporting.exit_code, 0) << exporting.output;
  // The export holds the fp32 master weights; the checkpoint's bf16 weights are their rounding.
  const auto hf = omnirm::io::read_safetensors_checkpoint(exported);
  const auto working = weights("export3");
  int compared = 0;
  for (const auto& [name, tensor] : hf.tensors) {
    if (working.count(name) == 0) continue;
    EXPECT_EQ(tensor.scalar_type(), at::kFloat) << name;
    if (working.at(name).scalar_type() == at::kBFloat16) {
      EXPECT_TRUE(at::equal(tensor.to(at::kBFloat16), working.at(name))) << name;
      ++compared;
    }
  }
  EXPECT_GT(compared, 5);
  const CommandResult scored =
      run_command(omnirm_binary() + " eval -m " + exported + " -d " + *dir_ + "/data/eval.jsonl");
  EXPECT_EQ(scored.exit_code, 0) << scored.output;
  // The sharded checkpoint itself loads for scoring: its bf16 working weights, as written.
  const CommandResult direct = run_command(omnirm_binary() + " eval -m " + out("export3") + " -d " +
                                           *dir_ + "/data/eval.jsonl");
  EXPECT_EQ(direct.exit_code, 0) << direct.output;
  EXPECT_NE(direct.output.find("accuracy"), std::string::npos) << direct.output;
}

}  // namespace
