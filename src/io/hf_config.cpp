// Implementation of io/hf_config.h.
#include "omnirm/io/hf_config.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "omnirm/core/error.h"

namespace omnirm::io {

namespace {

using nlohmann::json;

// Reads typed fields of one JSON object; `where` is "config.json" or "config.json:
// vision_config" in messages, `kind` the config kind that needs the field.
class Fields {
 public:
  Fields(const json& object, std::string where, std::string kind)
      : object_(object), where_(std::move(where)), kind_(std::move(kind)) {}

  bool has(const std::string& key) const {
    return object_.contains(key) && !object_[key].is_null();
  }

  int64_t integer(const std::string& key) const {
    require(key);
    return integer_or(key, 0);
  }
  int64_t integer_or(const std::string& key, int64_t fallback) const {
    if (!has(key)) return fallback;
    const json& value = object_[key];
    if (!value.is_number_integer() || value.get<int64_t>() <= 0)
      fail("'" + key + "' must be a positive integer, got " + value.dump());
    return value.get<int64_t>();
  }
  double number_or(const std::string& key, double fallback) const {
    if (!has(key)) return fallback;
    const json& value = object_[key];
    if (!value.is_number() || value.get<double>() <= 0.0)
      fail("'" + key + "' must be a positive number, got " + value.dump());
    return value.get<double>();
  }
  bool boolean_or(const std::string& key, bool fallback) const {
    if (!has(key)) return fallback;
    if (!object_[key].is_boolean())
      fail("'" + key + "' must be true or false, got " + object_[key].dump());
    return object_[key].get<bool>();
  }
  std::string text_or(const std::string& key, const std::string& fallback) const {
    if (!has(key)) return fallback;
    if (!object_[key].is_string()) fail("'" + key + "' must be a string");
    return object_[key].get<std::string>();
  }
  Fields object(const std::string& key) const {
    require(key);
    if (!object_[key].is_object()) fail("'" + key + "' must be an object");
    return Fields(object_[key], where_ + ": " + key, kind_);
  }
  const json& raw(const std::string& key) const { return object_[key]; }

  [[noreturn]] void fail(const std::string& what) const { throw UserError(where_ + ": " + what); }
  void require(const std::string& key) const {
    if (!has(key))
      fail("missing '" + key + "' (a " + kind_ +
           " config.json needs it); is this the "
           "checkpoint's own config.json?");
  }

 private:
  const json& object_;
  std::string where_;
  std::string kind_;
};

// The decoder fields shared by qwen2, llama and minicpmo's LLM.
void read_decoder(const Fields& f, bool qkv_bias, ModelConfig& m) {
  m.hidden_size = f.integer("hidden_size");
  m.num_layers = f.integer("num_hidden_layers");
  m.num_heads = f.integer("num_attention_heads");
  m.num_kv_heads = f.integer_or("num_key_value_heads", m.num_heads);
  m.intermediate_size = f.integer("intermediate_size");
  m.vocab_size = f.integer("vocab_size");
  m.rope_theta = f.number_or("rope_theta", 10000.0);
  m.rms_norm_eps = f.number_or("rms_norm_eps", 1e-6);
  m.qkv_bias = qkv_bias;
  if (m.hidden_size % m.num_heads != 0)
    f.fail("hidden_size " + std::to_string(m.hidden_size) + " is not a multiple of " +
           "num_attention_heads " + std::to_string(m.num_heads));
  if (m.num_heads % m.num_kv_heads != 0)
    f.fail("num_attention_heads " + std::to_string(m.num_heads) + " is not a multiple of " +
           "num_key_value_heads " + std::to_string(m.num_kv_heads));
  if (f.has("head_dim") && f.integer("head_dim") != m.hidden_size / m.num_heads)
    f.fail("head_dim " + std::to_string(f.integer("head_dim")) +
           " differs from hidden_size / num_attention_heads; omnirm's attention needs them equal");
  const std::string act = f.text_or("hidden_act", "silu");
  if (act != "silu")
    f.fail("hidden_act '" + act + "' is not supported; omnirm's MLP is SwiGLU (silu)");
  if (f.has("rope_scaling")) {
    const json& scaling = f.raw("rope_scaling");
    std::string type = "?";
    for (const char* key : {"rope_type", "type"})
      if (scaling.is_object() && scaling.contains(key) && scaling[key].is_string())
        type = scaling[key].get<std::string>();
    if (type != "default")
      f.fail("rope_scaling of type '" + type + "' is not supported; omnirm applies plain " +
             "RoPE (rope_theta only) — remove rope_scaling for contexts within the trained length");
  }
  if (f.boolean_or("use_sliding_window", false))
    f.fail("use_sliding_window: true is not supported; omnirm attends to the full context");
  if (f.boolean_or("mlp_bias", false))
    f.fail("mlp_bias: true is not supported; omnirm's MLP projections have no bias");
}

void read_vision(const Fields& top, ModelConfig& m) {
  const Fields v = top.object("vision_config");
  int64_t layers = v.integer("num_hidden_layers");
  // MiniCPM-V 2.6 / MiniCPM-o 2.6 drop SigLIP's last layer (the checkpoint holds one fewer).
  if (top.boolean_or("drop_vision_last_layer", true)) layers -= 1;
  if (layers <= 0) v.fail("num_hidden_layers leaves no vision layer");
  m.vision_layers = layers;
  m.vision_hidden = v.integer("hidden_size");
  m.vision_heads = v.integer("num_attention_heads");
  m.vision_intermediate = v.integer("intermediate_size");
  m.patch_size = v.integer("patch_size");
  // Images reach the tower at the slice resolution (the position table is resampled to it).
  int64_t image_size = v.integer("image_size");
  if (top.has("slice_config")) {
    const Fields slice = top.object("slice_config");
    image_size = slice.integer_or("scale_resolution", image_size);
  }
  if (image_size % m.patch_size != 0)
    v.fail("image size " + std::to_string(image_size) + " is not a multiple of patch_size " +
           std::to_string(m.patch_size));
  m.image_size = image_size;
  m.image_tokens = top.integer_or("query_num", m.image_tokens);
  // MiniCPM-o's resampler works at the LLM's width; an omnirm export whose resampler is
  // narrower says so in omnirm_resampler_hidden.
  m.resampler_hidden = top.integer_or("omnirm_resampler_hidden", m.hidden_size);
  if (m.resampler_hidden % m.vision_heads != 0)
    v.fail("the resampler width " + std::to_string(m.resampler_hidden) +
           " is not a multiple of num_attention_heads " + std::to_string(m.vision_heads));
  if (m.vision_hidden % m.vision_heads != 0)
    v.fail("hidden_size is not a multiple of num_attention_heads");
}

void read_audio(const Fields& top, ModelConfig& m) {
  const Fields a = top.object("audio_config");
  m.audio_hidden = a.integer("d_model");
  m.audio_layers = a.integer("encoder_layers");
  m.audio_heads = a.integer("encoder_attention_heads");
  m.audio_intermediate = a.integer("encoder_ffn_dim");
  m.mel_bins = a.integer_or("num_mel_bins", 80);
  m.audio_frames = 2 * a.integer_or("max_source_positions", 1500);
  m.audio_pool_stride = top.integer_or("audio_pool_step", m.audio_pool_stride);
  const std::string act = a.text_or("activation_function", "gelu");
  if (act != "gelu") a.fail("activation_function '" + act + "' is not supported (gelu only)");
}

// MiniCPM-o-2.6's own computation (model.arch minicpmo) unless the file is an omnirm export of
// omnirm's towers in MiniCPM-o's names (it says omnirm_arch, or, written before that key,
// omnirm_resampler_hidden). The settings this path does not reproduce are refused by name.
void read_minicpmo_arch(const Fields& top, ModelConfig& m) {
  m.arch = top.text_or("omnirm_arch", top.has("omnirm_resampler_hidden") ? "omnirm" : "minicpmo");
  if (m.arch == "omnirm") return;
  if (m.arch != "minicpmo") top.fail("omnirm_arch '" + m.arch + "' is not omnirm or minicpmo");
  if (m.vision_layers > 0) {
    const Fields v = top.object("vision_config");
    // The position table: (image_size / patch_size)² rows, NaViT-bucketised per slice.
    m.image_size = v.integer("image_size");
    if (m.image_size % m.patch_size != 0)
      v.fail("image_size " + std::to_string(m.image_size) + " is not a multiple of patch_size");
    if (top.has("slice_config")) {
      const Fields slice = top.object("slice_config");
      m.slice_max = slice.integer_or("max_slice_nums", m.slice_max);
      m.slice_resolution = slice.integer_or("scale_resolution", m.slice_resolution);
      if (slice.integer_or("patch_size", m.patch_size) != m.patch_size)
        slice.fail("patch_size " + std::to_string(slice.integer("patch_size")) +
                   " differs from vision_config.patch_size; the MiniCPM-o path slices in the "
                   "vision tower's patches");
    }
    if (!top.boolean_or("use_image_id", true))
      top.fail(
          "use_image_id: false is outside what the MiniCPM-o path reproduces (it writes "
          "<image_id>k</image_id> before each image, as MiniCPM-o-2.6 does)");
    if (!top.boolean_or("slice_mode", true))
      top.fail(
          "slice_mode: false is outside what the MiniCPM-o path reproduces (images are "
          "sliced, as MiniCPM-o-2.6 does)");
    if (m.hidden_size < 128)
      top.fail("hidden_size " + std::to_string(m.hidden_size) +
               " is outside what the MiniCPM-o path reproduces: the resampler's heads are "
               "hidden_size / 128");
  }
  if (m.audio_layers > 0) {
    m.audio_chunk_seconds = top.number_or("audio_chunk_length", m.audio_chunk_seconds);
    if (m.audio_pool_stride != 2)
      top.fail("audio_pool_step " + std::to_string(m.audio_pool_stride) +
               " is outside what the MiniCPM-o path reproduces: MiniCPM-o's processor counts "
               "audio tokens with a pool step of 2");
    if (!top.boolean_or("chunk_input", true))
      top.fail(
          "chunk_input: false is outside what the MiniCPM-o path reproduces (audio "
          "placeholders per second of audio, as LLaMA-Factory's MiniCPM-o plugin writes)");
    const Fields a = top.object("audio_config");
    if (a.integer("encoder_ffn_dim") != 4 * m.audio_hidden)
      a.fail("encoder_ffn_dim " + std::to_string(a.integer("encoder_ffn_dim")) +
             " is not 4 x d_model; MiniCPM-o sizes its audio projector from encoder_ffn_dim / 4");
  }
}

bool is_sequence_classifier(const json& config) {
  if (!config.contains("architectures") || !config["architectures"].is_array()) return false;
  for (const json& name : config["architectures"])
    if (name.is_string() &&
        name.get<std::string>().find("ForSequenceClassification") != std::string::npos)
      return true;
  return false;
}

}  // namespace

ModelConfig model_config_from_hf_json(const std::string& json_text, const std::string& origin,
                                      const ModelConfig& base) {
  const json config = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!config.is_object())
    throw UserError(origin + ": not a JSON object; give the checkpoint's config.json");
  const Fields top(config, origin, "model");
  const std::string type = top.text_or("model_type", "");
  if (type.empty())
    top.fail("missing 'model_type'; omnirm reads qwen2, llama and minicpmo configs");
  ModelConfig m = base;
  const Fields fields(config, origin, type);
  if (type == "qwen2") {
    read_decoder(fields, /*qkv_bias=*/true, m);
  } else if (type == "llama") {
    read_decoder(fields, /*qkv_bias=*/false, m);
    if (fields.boolean_or("attention_bias", false))
      fields.fail(
          "attention_bias: true is not supported; omnirm's attention output "
          "projection has no bias");
  } else if (type == "minicpmo") {
    read_decoder(fields, /*qkv_bias=*/true, m);
    m.vision_layers = 0;
    m.audio_layers = 0;
    if (fields.boolean_or("init_vision", true)) read_vision(fields, m);
    if (fields.boolean_or("init_audio", true)) read_audio(fields, m);
    read_minicpmo_arch(fields, m);
  } else {
    top.fail("model_type '" + type +
             "' is not supported; omnirm reads qwen2, llama and minicpmo configs");
  }
  if (is_sequence_classifier(config)) {
    if (fields.integer_or("num_labels", 1) != 1)
      fields.fail("num_labels must be 1 for a reward model");
    m.head_bias = false;  // HF's score layer has no bias
  }
  return m;
}

ModelConfig load_hf_model_config(const std::string& path, const ModelConfig& base) {
  namespace fs = std::filesystem;
  fs::path file(path);
  if (fs::is_directory(file)) file /= "config.json";
  std::ifstream in(file);
  if (!in)
    throw UserError("cannot open " + file.string() +
                    ": give a config.json or the checkpoint directory that holds it");
  std::stringstream text;
  text << in.rdbuf();
  return model_config_from_hf_json(text.str(), file.string(), base);
}

}  // namespace omnirm::io
