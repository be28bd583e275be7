// ModelConfig from HF config.json: Qwen2.5, LLaMA and MiniCPM-o-2.6 configs give the shapes
// their checkpoints need; missing fields and unsupported settings fail with one line naming
// the file and the field.
#include <gtest/gtest.h>

#include "omnirm/io/hf_config.h"
#include "support/test_support.h"

namespace {

using omnirm::io::model_config_from_hf_json;
using omnirm::testing::user_error_of;

// Qwen2.5-7B's decoder fields.
const char* kQwen25 = R"({
  "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_act": "silu",
  "hidden_size": 3584, "intermediate_size": 18944, "num_attention_heads": 28,
  "num_hidden_layers": 28, "num_key_value_heads": 4, "rms_norm_eps": 1e-06,
  "rope_theta": 1000000.0, "vocab_size": 152064, "use_sliding_window": false,
  "rope_scaling": null, "torch_dtype": "bfloat16"})";

TEST(HfConfig, Qwen25Decoder) {
  const omnirm::ModelConfig m = model_config_from_hf_json(kQwen25, "config.json");
  EXPECT_EQ(m.hidden_size, 3584);
  EXPECT_EQ(m.num_layers, 28);
  EXPECT_EQ(m.num_heads, 28);
  EXPECT_EQ(m.num_kv_heads, 4);
  EXPECT_EQ(m.intermediate_size, 18944);
  EXPECT_EQ(m.vocab_size, 152064);
  EXPECT_DOUBLE_EQ(m.rope_theta, 1e6);
  EXPECT_DOUBLE_EQ(m.rms_norm_eps, 1e-6);
  EXPECT_TRUE(m.qkv_bias);
  EXPECT_TRUE(m.head_bias);  // a causal LM: the value head (LLaMA-Factory) has a bias
  EXPECT_EQ(m.vision_layers, 0);
}

TEST(HfConfig, LlamaSequenceClassifierDefaults) {
  const omnirm::ModelConfig m = model_config_from_hf_json(
      R"({"architectures": ["LlamaForSequenceClassification"], "model_type": "llama",
          "hidden_size": 64, "intermediate_size": 96, "num_attention_heads": 4,
          "num_hidden_layers": 3, "vocab_size": 500, "rms_norm_eps": 1e-5, "num_labels": 1})",
      "cls/config.json");
  EXPECT_FALSE(m.qkv_bias);
  EXPECT_FALSE(m.head_bias);
  EXPECT_EQ(m.num_kv_heads, 4);  // defaults to num_attention_heads
  EXPECT_DOUBLE_EQ(m.rope_theta, 10000.0);
  EXPECT_DOUBLE_EQ(m.rms_norm_eps, 1e-5);
}

TEST(HfConfig, MiniCpmoTowers) {
  const omnirm::ModelConfig m = model_config_from_hf_json(
      R"({"architectures": ["MiniCPMO"], "model_type": "minicpmo", "hidden_size": 3584,
          "intermediate_size": 18944, "num_attention_heads": 28, "num_hidden_layers": 28,
          "num_key_value_heads": 4, "rms_norm_eps": 1e-06, "rope_theta": 1000000.0,
          "vocab_size": 151700, "query_num": 64, "drop_vision_last_layer": false,
          "audio_pool_step": 2, "init_tts": true,
          "slice_config": {"max_slice_nums": 9, "patch_size": 14, "scale_resolution": 448},
          "vision_config": {"hidden_size": 1152, "image_size": 980, "intermediate_size": 4304,
                            "num_attention_heads": 16, "num_hidden_layers": 27,
                            "patch_size": 14},
          "audio_config": {"d_model": 1024, "encoder_attention_heads": 16,
                           "encoder_ffn_dim": 4096, "encoder_layers": 24,
                           "num_mel_bins": 80, "max_source_positions": 1500}})",
      "minicpmo/config.json");
  EXPECT_EQ(m.hidden_size, 3584);
  EXPECT_EQ(m.vocab_size, 151700);
  EXPECT_EQ(m.vision_layers, 27);
  EXPECT_EQ(m.vision_hidden, 1152);
  EXPECT_EQ(m.vision_heads, 16);
  EXPECT_EQ(m.vision_intermediate, 4304);
  EXPECT_EQ(m.patch_size, 14);
  // MiniCPM-o's own computation: the position table's side is vision_config.image_size / 14,
  // images are sliced at slice_config's resolution.
  EXPECT_EQ(m.arch, "minicpmo");
  EXPECT_EQ(m.image_size, 980);
  EXPECT_EQ(m.slice_resolution, 448);
  EXPECT_EQ(m.slice_max, 9);
  EXPECT_EQ(m.image_tokens, 64);
  EXPECT_EQ(m.audio_layers, 24);
  EXPECT_EQ(m.audio_hidden, 1024);
  EXPECT_EQ(m.audio_heads, 16);
  EXPECT_EQ(m.audio_intermediate, 4096);
  EXPECT_EQ(m.audio_frames, 3000);
  EXPECT_EQ(m.audio_pool_stride, 2);
  EXPECT_EQ(m.point_layers, 0);
  EXPECT_EQ(m.resampler_hidden, 3584);  // MiniCPM-o's resampler works at the LLM's width
}

TEST(HfConfig, MiniCpmoDropsLastVisionLayerByDefaultAndHonoursInitFlags) {
  // MiniCPM-o's names for omnirm's own towers (an omnirm export of them says omnirm_arch);
  // read as MiniCPM-o's own computation, an LLM this narrow is refused naming hidden_size.
  const std::string text =
      R"({"omnirm_arch": "omnirm", "model_type": "minicpmo", "hidden_size": 64, "intermediate_size": 96,
          "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 300,
          "init_audio": false,
          "vision_config": {"hidden_size": 32, "image_size": 56, "intermediate_size": 64,
                            "num_attention_heads": 4, "num_hidden_layers": 3,
                            "patch_size": 14}})";
  const omnirm::ModelConfig m = model_config_from_hf_json(text, "c.json");
  EXPECT_EQ(m.arch, "omnirm");
  EXPECT_EQ(m.vision_layers, 2);
  EXPECT_EQ(m.image_size, 56);
  std::string own = text;
  const std::string marker = R"("omnirm_arch": "omnirm", )";
  own.erase(own.find(marker), marker.size());
  const std::string refused = user_error_of([&] { model_config_from_hf_json(own, "c.json"); });
  EXPECT_NE(refused.find("c.json: hidden_size 64 is outside what the MiniCPM-o path reproduces"),
            std::string::npos)
      << refused;
  EXPECT_EQ(m.audio_layers, 0);
  EXPECT_EQ(m.resampler_hidden, 64);
  // An omnirm export with a narrower resampler says so; a width the heads do not divide is
  // refused naming the field.
  std::string narrow = text;
  narrow.insert(1, R"("omnirm_resampler_hidden": 32, )");
  EXPECT_EQ(model_config_from_hf_json(narrow, "c.json").resampler_hidden, 32);
  std::string odd = text;
  odd.insert(1, R"("omnirm_resampler_hidden": 30, )");
  const std::string message = user_error_of([&] { model_config_from_hf_json(odd, "c.json"); });
  EXPECT_NE(message.find("c.json"), std::string::npos) << message;
  EXPECT_NE(message.find("resampler width 30"), std::string::npos) << message;
}

TEST(HfConfig, MissingAndUnsupportedFieldsFailWithOneLine) {
  auto error_of = [](const std::string& text) {
    return user_error_of([&] { model_config_from_hf_json(text, "ckpt/config.json"); });
  };
  const std::string missing = error_of(R"({"model_type": "qwen2", "hidden_size": 64})");
  EXPECT_NE(missing.find("ckpt/config.json"), std::string::npos) << missing;
  EXPECT_NE(missing.find("'num_hidden_layers'"), std::string::npos) << missing;
  EXPECT_EQ(missing.find('\n'), std::string::npos);

  const std::string base = R"("hidden_size": 64, "intermediate_size": 96,
      "num_attention_heads": 4, "num_hidden_layers": 2, "vocab_size": 300)";
  EXPECT_NE(error_of(R"({"model_type": "gpt2", )" + base + "}").find("'gpt2' is not supported"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model_type": "llama", "attention_bias": true, )" + base + "}")
                .find("attention_bias"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model_type": "qwen2", "rope_scaling": {"type": "yarn",
                "factor": 4.0}, )" +
                     base + "}")
                .find("'yarn'"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model_type": "qwen2", "use_sliding_window": true, )" + base + "}")
                .find("use_sliding_window"),
            std::string::npos);
  EXPECT_NE(
      error_of(R"({"model_type": "qwen2", "hidden_act": "gelu", )" + base + "}").find("hidden_act"),
      std::string::npos);
  EXPECT_NE(error_of(R"({"model_type": "qwen2", "num_key_value_heads": 3, )" + base + "}")
                .find("num_key_value_heads"),
            std::string::npos);
  const std::string vision =
      error_of(R"({"model_type": "minicpmo", "init_audio": false, )" + base + "}");
  EXPECT_NE(vision.find("'vision_config'"), std::string::npos) << vision;
  const std::string bad_type = error_of(R"({"model_type": "qwen2", "hidden_size": "64"})");
  EXPECT_NE(bad_type.find("positive integer"), std::string::npos) << bad_type;
  EXPECT_NE(error_of("[1, 2]").find("not a JSON object"), std::string::npos);
}

TEST(HfConfig, ReadsFromDirectory) {
  const std::string dir = omnirm::testing::make_temp_dir("hf_config");
  omnirm::testing::write_file(dir + "/config.json", kQwen25);
  EXPECT_EQ(omnirm::io::load_hf_model_config(dir).num_kv_heads, 4);
  const std::string message =
      user_error_of([&] { omnirm::io::load_hf_model_config(dir + "/absent"); });
  EXPECT_NE(message.find("absent: give a config.json"), std::string::npos) << message;
}

}  // namespace
