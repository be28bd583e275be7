// Checkpoints made by the libraries that define the layouts (tools/make_hf_layout_fixtures.py:
// transformers' Qwen2, SigLIP, Whisper and LLaMA modules at toy sizes, composed the way
// MiniCPM-o-2.6 composes them, plus a LLaMA-Factory value head) load into the model built
// from their own config.json: every name is accounted for, values arrive where they belong.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "omnirm/io/hf_checkpoint.h"
#include "omnirm/io/hf_config.h"
#include "omnirm/model/hf_weights.h"
#include "omnirm/model/reward_model.h"
#include "support/test_support.h"

namespace {

using omnirm::model::HfLayout;

std::string fixture(const std::string& name) {
  return omnirm::testing::source_dir() + "/tests/fixtures/hf_layouts/" + name;
}

std::map<std::string, at::Tensor> by_name(const omnirm::io::NamedTensors& tensors) {
  return {tensors.begin(), tensors.end()};
}

std::map<std::string, at::Tensor> state_of(torch::nn::Module& model) {
  std::map<std::string, at::Tensor> state;
  for (const auto& item : model.named_parameters()) state[item.key()] = item.value();
  for (const auto& item : model.named_buffers()) state[item.key()] = item.value();
  return state;
}

TEST(HfFixture, MiniCpmoCheckpointLoadsIntoItsConfig) {
  const omnirm::ModelConfig config = omnirm::io::load_hf_model_config(fixture("minicpmo"));
  EXPECT_EQ(config.vision_layers, 2);  // three in vision_config, the last one dropped
  EXPECT_EQ(config.image_size, 28);
  EXPECT_EQ(config.audio_frames, 20);
  EXPECT_EQ(config.resampler_hidden, 16);  // MiniCPM-o's resampler: the LLM's width
  omnirm::model::RewardModel model(config, config.vocab_size);
  const auto tensors = omnirm::io::load_hf_checkpoint(fixture("minicpmo"));
  const auto report = omnirm::model::load_hf_weights(*model, tensors);

  EXPECT_EQ(report.layout.layout, HfLayout::minicpmo);
  EXPECT_EQ(report.layout.decoder, "qwen2");
  EXPECT_TRUE(report.layout.has_value_head);
  std::set<std::string> ignored;
  for (const auto& [name, why] : report.ignored) ignored.insert(name);
  EXPECT_EQ(ignored, (std::set<std::string>{"llm.lm_head.weight", "tts.projector.weight"}));
  // Every tensor, the 13 of the resampler included, finds its place; only omnirm's temporal
  // embedding for video frames (MiniCPM-o has none) keeps its initial values.
  EXPECT_TRUE(report.unexpected.empty()) << report.summary();
  EXPECT_EQ(report.missing, (std::vector<std::string>{"resampler.temporal_embedding.weight"}));
  EXPECT_EQ(report.loaded.size() + report.ignored.size(), tensors.size());
  size_t resampler_loaded = 0;
  for (const std::string& name : report.loaded)
    resampler_loaded += name.rfind("resampler.", 0) == 0;
  EXPECT_EQ(resampler_loaded, 13u);  // query, kv_proj, 4 attn, 6 LayerNorm, proj

  const auto file = by_name(tensors);
  const auto state = state_of(*model);
  auto same = [&](const std::string& file_name, const std::string& omnirm_name) {
    EXPECT_TRUE(at::equal(file.at(file_name), state.at(omnirm_name))) << file_name;
  };
  same("llm.model.embed_tokens.weight", "model.embed_tokens.weight");
  same("llm.model.layers.1.self_attn.k_proj.bias", "model.layers.1.self_attn.k_proj.bias");
  same("vpm.encoder.layers.1.mlp.fc2.weight", "vision_tower.encoder.layers.1.mlp.fc2.weight");
  same("vpm.embeddings.patch_embedding.weight", "vision_tower.embeddings.patch_embedding.weight");
  same("apm.layers.0.self_attn.k_proj.weight", "audio_tower.layers.0.self_attn.k_proj.weight");
  same("apm.embed_positions.weight", "audio_tower.embed_positions");
  same("audio_projection_layer.linear2.bias", "audio_tower.audio_projection_layer.linear2.bias");
  same("v_head.summary.weight", "score.weight");
  same("v_head.summary.bias", "score.bias");
  same("resampler.query", "resampler.query");
  same("resampler.kv_proj.weight", "resampler.kv_proj.weight");
  same("resampler.attn.in_proj_weight", "resampler.attn.in_proj_weight");
  same("resampler.ln_post.bias", "resampler.ln_post.bias");
  // MiniCPM's proj is applied as x @ proj; omnirm's Linear weight is its transpose.
  EXPECT_TRUE(at::equal(file.at("resampler.proj").t(), state.at("resampler.proj.weight")));
  // SigLIP's 4×4 position table, bucketed to omnirm's 2×2 grid: rows 0, 2, 8, 10.
  const at::Tensor table = file.at("vpm.embeddings.position_embedding.weight");
  const at::Tensor grid = state.at("vision_tower.embeddings.position_embedding.weight");
  ASSERT_EQ(grid.size(0), 4);
  const int64_t rows[] = {0, 2, 8, 10};
  for (int64_t i = 0; i < 4; ++i) EXPECT_TRUE(at::equal(grid[i], table[rows[i]])) << i;
}

// With the resampler at the vision width (model.resampler_hidden 0, omnirm's default),
// MiniCPM-o's resampler does not fit: its 13 tensors are reported with the reason, the rest
// loads.
TEST(HfFixture, MiniCpmoResamplerIsReportedWhenTheWidthsDiffer) {
  omnirm::ModelConfig config = omnirm::io::load_hf_model_config(fixture("minicpmo"));
  config.resampler_hidden = 0;
  omnirm::model::RewardModel model(config, config.vocab_size);
  const auto tensors = omnirm::io::load_hf_checkpoint(fixture("minicpmo"));
  const auto report = omnirm::model::load_hf_weights(*model, tensors);
  for (const auto& [name, why] : report.unexpected) {
    EXPECT_EQ(name.rfind("resampler.", 0), 0u) << name;
    EXPECT_NE(why.find("LLM's width"), std::string::npos) << why;
    EXPECT_NE(why.find("model.resampler_hidden"), std::string::npos) << why;
  }
  EXPECT_EQ(report.unexpected.size(), 13u);
  for (const std::string& name : report.missing) EXPECT_EQ(name.rfind("resampler.", 0), 0u) << name;
  EXPECT_EQ(report.loaded.size() + report.unexpected.size() + report.ignored.size(),
            tensors.size());
}

TEST(HfFixture, LlamaSequenceClassifierLoadsCompletely) {
  const omnirm::ModelConfig config = omnirm::io::load_hf_model_config(fixture("llama_cls"));
  EXPECT_FALSE(config.qkv_bias);
  EXPECT_FALSE(config.head_bias);
  EXPECT_DOUBLE_EQ(config.rms_norm_eps, 1e-5);
  omnirm::model::RewardModel model(config, config.vocab_size);
  const auto tensors = omnirm::io::load_hf_checkpoint(fixture("llama_cls"));
  const auto report = omnirm::model::load_hf_weights(*model, tensors);
  EXPECT_EQ(report.layout.layout, HfLayout::seq_cls);
  EXPECT_EQ(report.layout.decoder, "llama");
  EXPECT_TRUE(report.missing.empty()) << report.summary();
  EXPECT_TRUE(report.unexpected.empty()) << report.summary();
  EXPECT_TRUE(report.ignored.empty()) << report.summary();
  EXPECT_EQ(report.loaded.size(), tensors.size());
  const auto file = by_name(tensors);
  const auto state = state_of(*model);
  for (const auto& [name, tensor] : file) EXPECT_TRUE(at::equal(tensor, state.at(name))) << name;
}

}  // namespace
