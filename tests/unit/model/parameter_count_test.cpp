// Parameter counts from the config alone (model/parameter_count.h): equal to the parameters of
// real modules built from small configs of both families, and, for a MiniCPM-o-2.6-shaped
// config.json read by omnirm's loader (no weights: nothing of 8B is allocated), the sizes
// MiniCPM-o-2.6's parts are published with.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "omnirm/io/hf_config.h"
#include "omnirm/model/parameter_count.h"
#include "omnirm/model/reward_model.h"

namespace {

// Parameters of `model` by their top-level prefix (the projector of the audio tower apart).
std::map<std::string, int64_t> counted(omnirm::model::RewardModelImpl& model) {
  std::map<std::string, int64_t> by_part;
  for (const auto& item : model.named_parameters()) {
    const std::string& name = item.key();
    std::string part = name.substr(0, name.find('.'));
    if (name.rfind("model.embed_tokens", 0) == 0) part = "embeddings";
    if (name.rfind("audio_tower.audio_projection_layer", 0) == 0) part = "audio_projector";
    by_part[part] += item.value().numel();
  }
  return by_part;
}

void expect_counts_match_modules(const omnirm::ModelConfig& config) {
  omnirm::model::RewardModelImpl model(config, 97);
  const omnirm::model::ParameterCounts c = omnirm::model::count_parameters(config, 97);
  std::map<std::string, int64_t> got = counted(model);
  EXPECT_EQ(got["embeddings"], c.embeddings);
  EXPECT_EQ(got["model"], c.decoder);
  EXPECT_EQ(got["score"], c.head);
  EXPECT_EQ(got["vision_tower"], c.vision);
  EXPECT_EQ(got["resampler"], c.resampler);
  EXPECT_EQ(got["audio_tower"], c.audio);
  EXPECT_EQ(got["audio_projector"], c.audio_projector);
  EXPECT_EQ(got["point_tower"], c.points);
}

TEST(ParameterCount, FormulasEqualTheModulesOfBothFamilies) {
  omnirm::ModelConfig omnirm_towers;
  omnirm_towers.vision_layers = 2;
  omnirm_towers.audio_layers = 1;
  omnirm_towers.point_layers = 1;
  omnirm_towers.video_temporal_patch = 2;
  omnirm_towers.video_motion_channels = true;
  expect_counts_match_modules(omnirm_towers);

  omnirm::ModelConfig minicpmo = omnirm_towers;
  minicpmo.arch = "minicpmo";
  minicpmo.point_layers = 0;
  minicpmo.video_temporal_patch = 1;
  minicpmo.video_motion_channels = false;
  minicpmo.image_size = 70 * 8;  // a 70 x 70 position table
  minicpmo.audio_intermediate = 4 * minicpmo.audio_hidden;
  expect_counts_match_modules(minicpmo);
  minicpmo.vision_hidden = minicpmo.hidden_size;  // kv_proj is then an identity
  expect_counts_match_modules(minicpmo);
}

// MiniCPM-o-2.6's config.json, shape fields only. Values as MiniCPM-o-2.6's published
// config.json has them (model repository openbmb/MiniCPM-o-2_6): the LLM is Qwen2.5-7B's
// (hidden 3584, 28 layers, 28 heads, 4 KV heads, intermediate 18944, rope_theta 1e6) with a
// vocabulary of 151700; vision_config is SigLIP-so400m-14-980 (27 layers, the last dropped);
// audio_config is Whisper-medium's encoder (24 layers, d_model 1024, 16 heads, ffn 4096);
// query_num 64, slice_config max 9 slices at 448, audio_pool_step 2, audio_chunk_length 1.0.
constexpr const char* kMiniCpmO26 = R"({
  "architectures": ["MiniCPMO"], "model_type": "minicpmo",
  "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
  "num_attention_heads": 28, "num_key_value_heads": 4, "vocab_size": 151700,
  "rope_theta": 1000000.0, "rms_norm_eps": 1e-06, "hidden_act": "silu",
  "max_position_embeddings": 32768, "use_sliding_window": false, "tie_word_embeddings": false,
  "query_num": 64, "image_size": 448, "drop_vision_last_layer": true, "batch_vision_input": true,
  "use_image_id": true, "vision_batch_size": 16, "audio_pool_step": 2,
  "audio_chunk_length": 1.0, "chunk_input": true, "init_vision": true, "init_audio": true,
  "init_tts": true,
  "slice_config": {"max_slice_nums": 9, "model_type": "minicpmv", "patch_size": 14,
                   "scale_resolution": 448},
  "vision_config": {"hidden_size": 1152, "image_size": 980, "intermediate_size": 4304,
                    "model_type": "siglip", "num_attention_heads": 16, "num_hidden_layers": 27,
                    "patch_size": 14},
  "audio_config": {"d_model": 1024, "encoder_layers": 24, "encoder_attention_heads": 16,
                   "encoder_ffn_dim": 4096, "num_mel_bins": 80, "max_source_positions": 1500,
                   "activation_function": "gelu", "model_type": "whisper"}
})";

TEST(ParameterCount, MiniCpmO26ShapedConfigGivesThePublishedPartSizes) {
  const omnirm::ModelConfig config =
      omnirm::io::model_config_from_hf_json(kMiniCpmO26, "MiniCPM-o-2.6 config.json");
  EXPECT_EQ(config.arch, "minicpmo");
  EXPECT_EQ(config.vision_layers, 26);
  EXPECT_EQ(config.image_size, 980);
  EXPECT_EQ(config.slice_resolution, 448);
  const omnirm::model::ParameterCounts c = omnirm::model::count_parameters(config, 151700);
  // Qwen2.5-7B's model card: 6.53B non-embedding parameters (28 layers and the final norm).
  EXPECT_EQ(c.decoder, 6525621760);
  EXPECT_NEAR(double(c.decoder) / 1e9, 6.53, 0.005);
  EXPECT_EQ(c.embeddings, int64_t(151700) * 3584);
  // MiniCPM-o-2.6's README: "SigLip-400M, Whisper-medium-300M ... and Qwen2.5-7B, 8B in all"
  // (sizes rounded to the hundred million; ChatTTS-200M and the LM head are not part of a
  // reward model). SigLIP with 26 layers and the 70 x 70 position table:
  EXPECT_EQ(c.vision, 402552736);
  EXPECT_NEAR(double(c.vision) / 1e9, 0.40, 0.05);
  // The Whisper-medium encoder (its fixed sinusoidal positions are no parameter here):
  EXPECT_NEAR(double(c.audio) / 1e9, 0.30, 0.05);
  // MiniCPM-o's own parts: the resampler at the LLM's width and the audio projector.
  EXPECT_EQ(c.resampler,
            64 * 3584 + 1152 * 3584 + 4 * 3584 * 3584 + 4 * 3584 + 6 * 3584 + 3584 * 3584);
  EXPECT_EQ(c.audio_projector, 1024 * 3584 + 3584 + 3584 * 3584 + 3584);
  EXPECT_EQ(c.head, 3585);
  EXPECT_EQ(c.audio, 305680384);
  // The reward model in all, 7.86B: "8B" as the README rounds it (with ChatTTS and the LM
  // head, which a reward model has not, the checkpoint holds about 8.6B).
  EXPECT_EQ(c.total(), 7862692769);
}

TEST(ParameterCount, MinicpmoSettingsOutsideThePathAreRefusedByName) {
  const std::string base = kMiniCpmO26;
  auto with = [&](const std::string& from, const std::string& to) {
    std::string text = base;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  auto message = [](const std::string& text) {
    try {
      omnirm::io::model_config_from_hf_json(text, "config.json");
    } catch (const std::exception& error) {
      return std::string(error.what());
    }
    return std::string();
  };
  EXPECT_NE(
      message(with("\"audio_pool_step\": 2", "\"audio_pool_step\": 3")).find("audio_pool_step 3"),
      std::string::npos);
  EXPECT_NE(message(with("\"use_image_id\": true", "\"use_image_id\": false")).find("use_image_id"),
            std::string::npos);
  EXPECT_NE(message(with("\"encoder_ffn_dim\": 4096", "\"encoder_ffn_dim\": 4000"))
                .find("encoder_ffn_dim 4000"),
            std::string::npos);
  EXPECT_NE(message(with("\"chunk_input\": true", "\"chunk_input\": false")).find("chunk_input"),
            std::string::npos);
}

}  // namespace
