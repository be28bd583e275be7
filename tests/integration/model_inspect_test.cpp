// `omnirm model inspect`: a small MiniCPM-o-shaped checkpoint (two shards, an index, a
// LLaMA-Factory value head, a config.json) is described by layout, tensor and parameter
// counts and, with --names, each tensor's mapping; a bad path exits 2 with one line.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <map>

#include "omnirm/io/safetensors.h"
#include "support/test_support.h"

namespace {

using omnirm::testing::make_temp_dir;
using omnirm::testing::omnirm_binary;
using omnirm::testing::run_command;
using omnirm::testing::write_file;

struct Checkpoint {
  std::string dir;
  std::map<std::string, int64_t> per_dtype;  // parameters per safetensors dtype name
  size_t tensors = 0;
};

Checkpoint make_minicpmo_checkpoint() {
  Checkpoint ckpt;
  ckpt.dir = make_temp_dir("inspect");
  const omnirm::io::NamedTensors shard1 = {
      {"llm.model.embed_tokens.weight", at::zeros({30, 8}, at::kBFloat16)},
      {"llm.model.layers.0.self_attn.q_proj.weight", at::zeros({8, 8}, at::kBFloat16)},
      {"llm.model.layers.0.self_attn.q_proj.bias", at::zeros({8}, at::kBFloat16)},
      {"llm.model.norm.weight", at::zeros({8}, at::kBFloat16)}};
  const omnirm::io::NamedTensors shard2 = {
      {"llm.lm_head.weight", at::zeros({30, 8}, at::kBFloat16)},
      {"resampler.proj", at::zeros({8, 8}, at::kFloat)},
      {"vpm.embeddings.position_embedding.weight", at::zeros({16, 4}, at::kFloat)},
      {"tts.dvae.weight", at::zeros({3}, at::kFloat)},
      {"mystery.weight", at::zeros({2}, at::kFloat)}};
  const omnirm::io::NamedTensors head = {{"v_head.summary.weight", at::zeros({1, 8})},
                                         {"v_head.summary.bias", at::zeros({1})}};
  omnirm::io::save_safetensors(ckpt.dir + "/model-00001-of-00002.safetensors", shard1);
  omnirm::io::save_safetensors(ckpt.dir + "/model-00002-of-00002.safetensors", shard2);
  omnirm::io::save_safetensors(ckpt.dir + "/value_head.safetensors", head);
  std::string map;
  for (const auto* shard : {&shard1, &shard2}) {
    const char* file =
        shard == &shard1 ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
    for (const auto& [name, tensor] : *shard)
      map += (map.empty() ? "" : ", ") + ("\"" + name + "\": \"" + file + "\"");
  }
  write_file(ckpt.dir + "/model.safetensors.index.json", "{\"weight_map\": {" + map + "}}");
  write_file(ckpt.dir + "/config.json",
             R"({"model_type": "minicpmo", "hidden_size": 8, "intermediate_size": 16,
                 "num_attention_heads": 2, "num_hidden_layers": 1, "vocab_size": 30,
                 "init_vision": false, "init_audio": false})");
  for (const auto* part : {&shard1, &shard2, &head}) {
    for (const auto& [name, tensor] : *part) {
      ckpt.per_dtype[tensor.scalar_type() == at::kBFloat16 ? "BF16" : "F32"] += tensor.numel();
      ++ckpt.tensors;
    }
  }
  return ckpt;
}

bool has_line_with(const std::string& output, const std::string& a, const std::string& b) {
  size_t start = 0;
  while (start < output.size()) {
    size_t end = output.find('\n', start);
    if (end == std::string::npos) end = output.size();
    const std::string line = output.substr(start, end - start);
    if (line.find(a) != std::string::npos && line.find(b) != std::string::npos) return true;
    start = end + 1;
  }
  return false;
}

TEST(ModelInspect, DescribesAShardedMiniCpmoCheckpoint) {
  const Checkpoint ckpt = make_minicpmo_checkpoint();
  const auto result = run_command(omnirm_binary() + " model inspect " + ckpt.dir);
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string& out = result.output;
  EXPECT_NE(out.find("(3 files)"), std::string::npos) << out;
  EXPECT_NE(out.find("layout: MiniCPM-o-2.6 (qwen2 decoder) + LLaMA-Factory value head"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("tensors: " + std::to_string(ckpt.tensors) + "\n"), std::string::npos) << out;
  for (const auto& [dtype, count] : ckpt.per_dtype)
    EXPECT_TRUE(has_line_with(out, "  " + dtype + " ", " " + std::to_string(count) + "  "))
        << dtype << " " << count << "\n"
        << out;
  EXPECT_TRUE(has_line_with(out, "  llm ", " " + std::to_string(30 * 8 + 64 + 8 + 8 + 240))) << out;
  EXPECT_NE(out.find("config.json: hidden 8, layers 1"), std::string::npos) << out;
  // 4 backbone + resampler.proj + position table + 2 head tensors; lm_head and tts ignored.
  EXPECT_NE(out.find("mapping: 8 mapped, 2 ignored, 1 unknown"), std::string::npos) << out;
  EXPECT_EQ(out.find("-> "), std::string::npos) << "no per-tensor lines without --names";
}

TEST(ModelInspect, NamesListEachMapping) {
  const Checkpoint ckpt = make_minicpmo_checkpoint();
  const auto result = run_command(omnirm_binary() + " model inspect --names " + ckpt.dir +
                                  "/model.safetensors.index.json");
  ASSERT_EQ(result.exit_code, 0) << result.output;
  const std::string& out = result.output;
  EXPECT_NE(out.find("(2 files)"), std::string::npos) << out;
  EXPECT_TRUE(has_line_with(out, "llm.model.layers.0.self_attn.q_proj.bias [8] BF16",
                            "-> model.layers.0.self_attn.q_proj.bias"))
      << out;
  EXPECT_TRUE(
      has_line_with(out, "resampler.proj [8, 8] F32", "-> resampler.proj.weight (transposed)"))
      << out;
  EXPECT_TRUE(has_line_with(out, "llm.lm_head.weight", "-> ignored: LM head")) << out;
  EXPECT_TRUE(has_line_with(out, "tts.dvae.weight", "-> ignored:")) << out;
  EXPECT_TRUE(has_line_with(out, "mystery.weight", "-> unknown:")) << out;
  EXPECT_FALSE(has_line_with(out, "v_head.summary.weight", "->")) << "index only: no value head";
}

TEST(ModelInspect, MissingPathExitsTwoWithOneLine) {
  const auto result = run_command(omnirm_binary() + " model inspect /nonexistent/ckpt");
  EXPECT_EQ(result.exit_code, 2) << result.output;
  EXPECT_NE(result.output.find("/nonexistent/ckpt: no such file or directory"), std::string::npos)
      << result.output;
}

}  // namespace
