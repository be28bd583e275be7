// Implementation of io/hf_config_writer.h.
#include "omnirm/io/hf_config_writer.h"

namespace omnirm::io {

namespace {

using nlohmann::json;

// The Qwen2 decoder's fields, shared by both layouts.
json decoder_fields(const ModelConfig& m, int64_t vocab_size, int32_t im_end_id) {
  return {{"hidden_size", m.hidden_size},
          {"intermediate_size", m.intermediate_size},
          {"num_hidden_layers", m.num_layers},
          {"num_attention_heads", m.num_heads},
          {"num_key_value_heads", m.num_kv_heads},
          {"hidden_act", "silu"},
          {"rms_norm_eps", m.rms_norm_eps},
          {"rope_theta", m.rope_theta},
          {"max_position_embeddings", 32768},
          {"vocab_size", vocab_size},
          {"tie_word_embeddings", false},
          {"use_sliding_window", false},
          {"pad_token_id", im_end_id},
          {"eos_token_id", im_end_id},
          {"bos_token_id", nullptr},
          {"torch_dtype", "float32"}};
}

}  // namespace

json qwen2_seq_cls_config_json(const ModelConfig& m, int64_t vocab_size, int32_t im_end_id) {
  json config = decoder_fields(m, vocab_size, im_end_id);
  config["architectures"] = {"Qwen2ForSequenceClassification"};
  config["model_type"] = "qwen2";
  config["num_labels"] = 1;
  config["id2label"] = {{"0", "LABEL_0"}};
  config["label2id"] = {{"LABEL_0", 0}};
  return config;
}

json minicpmo_config_json(const ModelConfig& m, int64_t vocab_size, int32_t im_end_id) {
  json config = decoder_fields(m, vocab_size, im_end_id);
  config["architectures"] = {"MiniCPMO"};
  config["model_type"] = "minicpmo";
  config["init_vision"] = m.vision_layers > 0;
  config["init_audio"] = m.audio_layers > 0;
  config["init_tts"] = false;
  // Which computation the towers do (model.arch); reading the file back keeps it.
  config["omnirm_arch"] = m.arch;
  const bool minicpmo = m.arch == "minicpmo";
  if (m.vision_layers > 0) {
    config["drop_vision_last_layer"] = true;
    config["query_num"] = m.image_tokens;
    config["vision_config"] = {{"model_type", "siglip_vision_model"},
                               {"hidden_size", m.vision_hidden},
                               {"intermediate_size", m.vision_intermediate},
                               {"num_attention_heads", m.vision_heads},
                               {"num_hidden_layers", m.vision_layers + 1},
                               {"patch_size", m.patch_size},
                               {"image_size", m.image_size},
                               {"num_channels", 3},
                               {"hidden_act", "gelu_pytorch_tanh"},
                               {"layer_norm_eps", 1e-6}};
    config["slice_config"] = {{"model_type", "minicpmv"},
                              {"patch_size", m.patch_size},
                              {"max_slice_nums", minicpmo ? m.slice_max : 1},
                              {"scale_resolution", minicpmo ? m.slice_resolution : m.image_size}};
    if (minicpmo) {
      config["use_image_id"] = true;
      config["slice_mode"] = true;
    }
    const int64_t resampler = m.resampler_hidden > 0 ? m.resampler_hidden : m.vision_hidden;
    if (resampler != m.hidden_size) config["omnirm_resampler_hidden"] = resampler;
  }
  if (m.audio_layers > 0) {
    config["audio_pool_step"] = m.audio_pool_stride;
    if (minicpmo) {
      config["audio_chunk_length"] = m.audio_chunk_seconds;
      config["chunk_input"] = true;
    }
    config["audio_config"] = {{"model_type", "whisper"},
                              {"d_model", m.audio_hidden},
                              {"encoder_layers", m.audio_layers},
                              {"encoder_attention_heads", m.audio_heads},
                              {"encoder_ffn_dim", m.audio_intermediate},
                              {"num_mel_bins", m.mel_bins},
                              {"max_source_positions", minicpmo ? 1500 : (m.audio_frames + 1) / 2},
                              {"activation_function", "gelu"}};
  }
  return config;
}

}  // namespace omnirm::io
