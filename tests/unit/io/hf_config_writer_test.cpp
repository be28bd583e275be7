// config.json as `omnirm export` writes it reads back (io/hf_config.h) into the shapes of the
// model it was written for: a Qwen2 sequence classifier and a MiniCPM-o-2.6 composite with
// every tower, whose vision_config counts the dropped last layer as MiniCPM-o's does.
#include <gtest/gtest.h>

#include "omnirm/io/hf_config.h"
#include "omnirm/io/hf_config_writer.h"

namespace {

using omnirm::ModelConfig;

ModelConfig omni_config() {
  ModelConfig m;
  m.hidden_size = 32;
  m.num_layers = 2;
  m.num_heads = 4;
  m.num_kv_heads = 2;
  m.intermediate_size = 48;
  m.rope_theta = 1e6;
  m.vision_layers = 2;
  m.vision_hidden = 16;
  m.vision_heads = 2;
  m.vision_intermediate = 24;
  m.image_size = 28;
  m.patch_size = 14;
  m.image_tokens = 4;
  m.audio_layers = 1;
  m.audio_hidden = 8;
  m.audio_heads = 2;
  m.audio_intermediate = 16;
  m.mel_bins = 8;
  m.audio_frames = 20;
  m.audio_pool_stride = 2;
  return m;
}

void expect_same_backbone(const ModelConfig& a, const ModelConfig& b) {
  EXPECT_EQ(a.hidden_size, b.hidden_size);
  EXPECT_EQ(a.num_layers, b.num_layers);
  EXPECT_EQ(a.num_heads, b.num_heads);
  EXPECT_EQ(a.num_kv_heads, b.num_kv_heads);
  EXPECT_EQ(a.intermediate_size, b.intermediate_size);
  EXPECT_EQ(a.vocab_size, b.vocab_size);
  EXPECT_DOUBLE_EQ(a.rope_theta, b.rope_theta);
  EXPECT_DOUBLE_EQ(a.rms_norm_eps, b.rms_norm_eps);
  EXPECT_EQ(a.qkv_bias, b.qkv_bias);
}

void expect_same_shapes(const ModelConfig& a, const ModelConfig& b) {
  expect_same_backbone(a, b);
  EXPECT_EQ(a.vision_layers, b.vision_layers);
  EXPECT_EQ(a.vision_hidden, b.vision_hidden);
  EXPECT_EQ(a.vision_heads, b.vision_heads);
  EXPECT_EQ(a.vision_intermediate, b.vision_intermediate);
  EXPECT_EQ(a.image_size, b.image_size);
  EXPECT_EQ(a.patch_size, b.patch_size);
  EXPECT_EQ(a.image_tokens, b.image_tokens);
  EXPECT_EQ(a.audio_layers, b.audio_layers);
  EXPECT_EQ(a.audio_hidden, b.audio_hidden);
  EXPECT_EQ(a.audio_heads, b.audio_heads);
  EXPECT_EQ(a.audio_intermediate, b.audio_intermediate);
  EXPECT_EQ(a.mel_bins, b.mel_bins);
  EXPECT_EQ(a.audio_frames, b.audio_frames);
  EXPECT_EQ(a.audio_pool_stride, b.audio_pool_stride);
}

ModelConfig read_back(const nlohmann::json& config) {
  return omnirm::io::model_config_from_hf_json(config.dump(), "config.json");
}

// A model written without media towers (omni_config with both dropped, 300 pieces, pad and
// end token 7) and what `write` makes of it, read back.
struct TextOnlyRoundTrip {
  ModelConfig written;
  nlohmann::json config;
  ModelConfig back;
};
TextOnlyRoundTrip text_only_round_trip(nlohmann::json (*write)(const ModelConfig&, int64_t,
                                                               int32_t)) {
  ModelConfig m = omni_config();
  m.vision_layers = 0;
  m.audio_layers = 0;
  m.vocab_size = 300;
  nlohmann::json config = write(m, 300, 7);
  ModelConfig back = read_back(config);
  return {m, std::move(config), back};
}

TEST(HfConfigWriter, MiniCpmoReadsBackIntoTheSameShapes) {
  ModelConfig m = omni_config();
  m.vocab_size = 300;
  const nlohmann::json config = omnirm::io::minicpmo_config_json(m, 300, 7);
  EXPECT_EQ(config["model_type"], "minicpmo");
  EXPECT_EQ(config["architectures"], nlohmann::json::array({"MiniCPMO"}));
  EXPECT_EQ(config["vision_config"]["num_hidden_layers"], 3);  // one more, dropped on load
  EXPECT_EQ(config["audio_config"]["max_source_positions"], 10);
  EXPECT_FALSE(config["init_tts"].get<bool>());
  // The resampler works at the vision width (16), not MiniCPM-o's (the LLM's, 32).
  EXPECT_EQ(config["omnirm_resampler_hidden"], 16);
  const ModelConfig back = read_back(config);
  expect_same_shapes(m, back);
  EXPECT_EQ(back.resampler_hidden, 16);

  m.resampler_hidden = m.hidden_size;  // MiniCPM-o's own shape: nothing extra to say
  const nlohmann::json llm_width = omnirm::io::minicpmo_config_json(m, 300, 7);
  EXPECT_FALSE(llm_width.contains("omnirm_resampler_hidden"));
  EXPECT_EQ(read_back(llm_width).resampler_hidden, 32);
}

TEST(HfConfigWriter, TheMinicpmoPathReadsBackWithItsSliceAndChunkSettings) {
  ModelConfig m = omni_config();
  m.vocab_size = 300;
  m.arch = "minicpmo";
  m.hidden_size = 128;
  m.image_size = 980;  // SigLIP's 70 x 70 position table
  m.slice_max = 4;
  m.slice_resolution = 224;
  m.audio_intermediate = 4 * m.audio_hidden;
  m.audio_frames = 3000;
  m.audio_chunk_seconds = 2.0;
  const nlohmann::json config = omnirm::io::minicpmo_config_json(m, 300, 7);
  EXPECT_EQ(config["omnirm_arch"], "minicpmo");
  EXPECT_EQ(config["slice_config"]["max_slice_nums"], 4);
  EXPECT_EQ(config["slice_config"]["scale_resolution"], 224);
  EXPECT_EQ(config["vision_config"]["image_size"], 980);
  EXPECT_TRUE(config["chunk_input"].get<bool>());
  const ModelConfig back = read_back(config);
  EXPECT_EQ(back.arch, "minicpmo");
  EXPECT_EQ(back.image_size, 980);
  EXPECT_EQ(back.slice_max, 4);
  EXPECT_EQ(back.slice_resolution, 224);
  EXPECT_EQ(back.audio_chunk_seconds, 2.0);
  EXPECT_EQ(back.audio_frames, 3000);
  // omnirm's own towers keep their arch through an export in MiniCPM-o's names.
  EXPECT_EQ(read_back(omnirm::io::minicpmo_config_json(omni_config(), 300, 7)).arch, "omnirm");
}

TEST(HfConfigWriter, MiniCpmoWithoutTowersLeavesThemOut) {
  const auto [m, config, back] = text_only_round_trip(omnirm::io::minicpmo_config_json);
  EXPECT_FALSE(config.contains("vision_config"));
  EXPECT_EQ(back.vision_layers, 0);
  EXPECT_EQ(back.audio_layers, 0);
  EXPECT_EQ(back.hidden_size, 32);
}

TEST(HfConfigWriter, Qwen2SequenceClassifierReadsBack) {
  const auto [m, config, back] = text_only_round_trip(omnirm::io::qwen2_seq_cls_config_json);
  EXPECT_EQ(config["architectures"], nlohmann::json::array({"Qwen2ForSequenceClassification"}));
  EXPECT_EQ(config["pad_token_id"], 7);
  expect_same_backbone(m, back);
  EXPECT_EQ(back.vision_layers, 0);
  EXPECT_FALSE(back.head_bias);  // HF's score layer has no bias
}

}  // namespace
