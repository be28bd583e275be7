// Implementation of model/hf_names.h: prefix rules per layout, no tensors involved.
#include "omnirm/model/hf_names.h"

#include <array>
#include <string_view>

namespace omnirm::model {

namespace {

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

bool ends_with(std::string_view text, std::string_view suffix) {
  return text.size() >= suffix.size() && text.substr(text.size() - suffix.size()) == suffix;
}

// Replaces `from` (a prefix of `name`) with `to`.
std::string swap_prefix(const std::string& name, std::string_view from, std::string_view to) {
  return std::string(to) + name.substr(from.size());
}

constexpr std::array<std::string_view, 4> kTowerPrefixes = {"vision_tower.", "resampler.",
                                                            "audio_tower.", "point_tower."};

// omnirm tensors MiniCPM-o has no place for travel under this prefix in its layout.
constexpr std::string_view kExtraPrefix = "omnirm_";

bool is_omnirm_name(const std::string& name) {
  if (starts_with(name, "model.") || starts_with(name, "score.")) return true;
  for (std::string_view prefix : kTowerPrefixes)
    if (starts_with(name, prefix)) return true;
  return false;
}

NameMapping mapped(std::string target, TensorTransform transform = TensorTransform::copy) {
  return {NameStatus::mapped, std::move(target), transform, "", ""};
}

NameMapping ignored(std::string reason) {
  return {NameStatus::ignored, "", TensorTransform::copy, std::move(reason), ""};
}

NameMapping unknown(HfLayout layout) {
  return {NameStatus::unknown, "", TensorTransform::copy,
          "no omnirm counterpart in the " + hf_layout_name(layout) + " layout", ""};
}

constexpr const char* kLmHeadReason = "LM head: a reward model computes no token logits";

NameMapping map_minicpmo(const std::string& name) {
  if (starts_with(name, "llm.model.")) return mapped(swap_prefix(name, "llm.", ""));
  if (name == "llm.lm_head.weight") return ignored(kLmHeadReason);
  if (starts_with(name, "tts."))
    return ignored("speech generation (TTS) module: a reward model produces no speech");
  if (name == "vpm.embeddings.position_embedding.weight")
    return mapped("vision_tower.embeddings.position_embedding.weight",
                  TensorTransform::position_grid);
  if (starts_with(name, "vpm.")) return mapped(swap_prefix(name, "vpm.", "vision_tower."));
  if (starts_with(name, "resampler.")) {
    NameMapping mapping = name == "resampler.proj"
                              ? mapped("resampler.proj.weight", TensorTransform::transpose)
                              : mapped(name);
    mapping.mismatch_reason =
        "MiniCPM-o's resampler works at the LLM's width, this model's at another "
        "(model.resampler_hidden; a MiniCPM-o config.json sets it to hidden_size), so it stays "
        "as initialised";
    return mapping;
  }
  if (name == "apm.embed_positions.weight")
    return mapped("audio_tower.embed_positions", TensorTransform::leading_rows);
  if (starts_with(name, "apm.")) return mapped(swap_prefix(name, "apm.", "audio_tower."));
  if (starts_with(name, "audio_projection_layer.")) return mapped("audio_tower." + name);
  if (starts_with(name, kExtraPrefix) && is_omnirm_name(name.substr(kExtraPrefix.size())))
    return mapped(name.substr(kExtraPrefix.size()));
  return unknown(HfLayout::minicpmo);
}

// The decoder family from the attention projections of the decoder layers (not the towers').
std::string decoder_family(const std::vector<std::string>& names) {
  bool has_weight = false;
  for (const std::string& name : names) {
    const bool decoder_layer = starts_with(name, "model.layers.") ||
                               starts_with(name, "llm.model.layers.") ||
                               starts_with(name, "layers.");
    if (!decoder_layer) continue;
    if (ends_with(name, "self_attn.q_proj.bias")) return "qwen2";
    if (ends_with(name, "self_attn.q_proj.weight")) has_weight = true;
  }
  return has_weight ? "llama" : "";
}

}  // namespace

std::string hf_layout_name(HfLayout layout) {
  switch (layout) {
    case HfLayout::omnirm:
      return "omnirm";
    case HfLayout::causal_lm:
      return "causal_lm";
    case HfLayout::seq_cls:
      return "seq_cls";
    case HfLayout::bare:
      return "bare";
    case HfLayout::minicpmo:
      return "minicpmo";
    case HfLayout::value_head:
      return "value_head";
    case HfLayout::unknown:
      return "unknown";
  }
  return "unknown";
}

std::string DetectedLayout::description() const {
  const std::string family = decoder == "llama" ? "Llama" : "Qwen2";
  std::string text;
  switch (layout) {
    case HfLayout::omnirm:
      text = "omnirm native";
      break;
    case HfLayout::causal_lm:
      text = family + "ForCausalLM";
      break;
    case HfLayout::seq_cls:
      text = family + "ForSequenceClassification";
      break;
    case HfLayout::bare:
      text = family + "Model (no \"model.\" prefix)";
      break;
    case HfLayout::minicpmo:
      text = "MiniCPM-o-2.6";
      break;
    case HfLayout::value_head:
      return "LLaMA-Factory value head";
    case HfLayout::unknown:
      text = "unknown";
      break;
  }
  if (!decoder.empty() && layout != HfLayout::unknown) text += " (" + decoder + " decoder)";
  if (has_value_head) text += " + LLaMA-Factory value head";
  return text;
}

DetectedLayout detect_hf_layout(const std::vector<std::string>& names) {
  DetectedLayout detected;
  detected.decoder = decoder_family(names);
  bool minicpmo = false, towers = false, model = false, lm_head = false, score = false,
       score_bias = false, bare = false, other = false;
  for (const std::string& name : names) {
    if (starts_with(name, "v_head.")) {
      detected.has_value_head = true;
      continue;
    }
    other = true;
    if (starts_with(name, "llm.") || starts_with(name, "vpm.") || starts_with(name, "apm.") ||
        starts_with(name, "audio_projection_layer.") || starts_with(name, "tts."))
      minicpmo = true;
    for (std::string_view prefix : kTowerPrefixes)
      if (starts_with(name, prefix) && prefix != "resampler.") towers = true;
    if (starts_with(name, "model.")) model = true;
    if (name == "lm_head.weight") lm_head = true;
    if (name == "score.weight") score = true;
    if (name == "score.bias") score_bias = true;
    if (name == "embed_tokens.weight" || starts_with(name, "layers.") || name == "norm.weight")
      bare = true;
  }
  if (minicpmo) {
    detected.layout = HfLayout::minicpmo;
  } else if (towers || score_bias) {
    // HF's sequence-classification head has no bias; omnirm's (model.head_bias) has one.
    detected.layout = HfLayout::omnirm;
  } else if (model && lm_head) {
    detected.layout = HfLayout::causal_lm;
  } else if (model || score) {
    detected.layout = HfLayout::seq_cls;
  } else if (bare) {
    detected.layout = HfLayout::bare;
  } else if (!other && detected.has_value_head) {
    detected.layout = HfLayout::value_head;
    detected.has_value_head = false;
  }
  return detected;
}

NameMapping map_hf_name(const std::string& name, HfLayout layout) {
  if (name == "v_head.summary.weight") return mapped("score.weight");
  if (name == "v_head.summary.bias") return mapped("score.bias");
  if (ends_with(name, "rotary_emb.inv_freq"))
    return ignored("RoPE frequencies: computed from model.rope_theta");
  switch (layout) {
    case HfLayout::omnirm:
    case HfLayout::causal_lm:
    case HfLayout::seq_cls:
      if (name == "lm_head.weight") return ignored(kLmHeadReason);
      if (is_omnirm_name(name)) return mapped(name);
      return unknown(layout);
    case HfLayout::bare:
      if (name == "embed_tokens.weight" || starts_with(name, "layers.") ||
          starts_with(name, "norm."))
        return mapped("model." + name);
      if (starts_with(name, "score.")) return mapped(name);
      return unknown(layout);
    case HfLayout::minicpmo:
      return map_minicpmo(name);
    case HfLayout::value_head:
    case HfLayout::unknown:
      return unknown(layout);
  }
  return unknown(layout);
}

std::optional<ExportName> hf_export_name(const std::string& name, HfLayout layout) {
  const bool backbone = starts_with(name, "model.");
  const bool head = starts_with(name, "score.");
  auto value_head_name = [&]() -> std::optional<ExportName> {
    return ExportName{swap_prefix(name, "score.", "v_head.summary.")};
  };
  switch (layout) {
    case HfLayout::omnirm:
      if (is_omnirm_name(name)) return ExportName{name};
      return std::nullopt;
    case HfLayout::seq_cls:
      if (backbone || name == "score.weight") return ExportName{name};
      return std::nullopt;
    case HfLayout::causal_lm:
      if (backbone) return ExportName{name};
      return std::nullopt;
    case HfLayout::bare:
      if (backbone) return ExportName{swap_prefix(name, "model.", "")};
      return std::nullopt;
    case HfLayout::value_head:
      if (head) return value_head_name();
      return std::nullopt;
    case HfLayout::minicpmo:
      if (backbone) return ExportName{"llm." + name};
      if (head) return value_head_name();
      if (starts_with(name, "vision_tower."))
        return ExportName{swap_prefix(name, "vision_tower.", "vpm.")};
      if (name == "resampler.proj.weight")
        return ExportName{"resampler.proj", TensorTransform::transpose};
      if (starts_with(name, "resampler.temporal_embedding."))
        return ExportName{std::string(kExtraPrefix) + name};
      if (starts_with(name, "resampler.")) return ExportName{name};
      if (starts_with(name, "audio_tower.audio_projection_layer."))
        return ExportName{swap_prefix(name, "audio_tower.", "")};
      if (name == "audio_tower.embed_positions") return ExportName{"apm.embed_positions.weight"};
      if (starts_with(name, "audio_tower."))
        return ExportName{swap_prefix(name, "audio_tower.", "apm.")};
      if (is_omnirm_name(name)) return ExportName{std::string(kExtraPrefix) + name};
      return std::nullopt;
    case HfLayout::unknown:
      return std::nullopt;
  }
  return std::nullopt;
}

}  // namespace omnirm::model
