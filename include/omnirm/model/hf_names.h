// Tensor names of the Hugging Face layouts a reward model's weights come in, and how each
// maps onto omnirm's own parameter names. Purely about names (no tensors, no torch): the
// layout of a set of names is detected, then each name maps to an omnirm name (with the
// transform its values need), or is ignored with a reason, or is unknown. The reverse
// direction gives the MiniCPM-o-2.6 / LLaMA-Factory names omnirm's tensors export under.
//
// Layouts:
//   omnirm       model.*, score.*, vision_tower.*, resampler.*, audio_tower.*, point_tower.*
//   causal_lm    Qwen2/LLaMA ...ForCausalLM: model.* plus lm_head.weight (ignored)
//   seq_cls      Qwen2/LLaMA ...ForSequenceClassification: model.* plus score.weight
//   bare         Qwen2Model / LlamaModel: embed_tokens.*, layers.N.*, norm.* (no "model.")
//   minicpmo     MiniCPM-o-2.6: llm.model.*, llm.lm_head.weight (ignored), vpm.*, resampler.*,
//                apm.*, audio_projection_layer.*, tts.* (ignored); omnirm tensors it has no
//                place for (the resampler's temporal embedding, the point tower) as
//                omnirm_<omnirm name>
//   value_head   LLaMA-Factory's value_head.safetensors alone: v_head.summary.{weight,bias}
// v_head.summary.* maps to score.* in every layout (the value head is a file of its own
// beside the backbone's). Qwen2 and LLaMA share their names; they differ in the qkv bias.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace omnirm::model {

enum class HfLayout { omnirm, causal_lm, seq_cls, bare, minicpmo, value_head, unknown };

// "omnirm", "causal_lm", ... (the names above).
std::string hf_layout_name(HfLayout layout);

struct DetectedLayout {
  HfLayout layout = HfLayout::unknown;
  // "qwen2" (attention projections with biases), "llama" (without), or "" when the names
  // hold no decoder layer.
  std::string decoder;
  bool has_value_head = false;  // v_head.summary.* among the names
  // One line for people, e.g. "MiniCPM-o-2.6 (qwen2 decoder) + LLaMA-Factory value head".
  std::string description() const;
};

// Detects the layout of a set of tensor names (the union of a checkpoint's files).
DetectedLayout detect_hf_layout(const std::vector<std::string>& names);

// What a tensor's values need on the way from the file to omnirm (or back).
enum class TensorTransform {
  copy,
  // A matrix stored for x @ W (MiniCPM's resampler.proj) where omnirm holds a Linear weight:
  // transposed both ways.
  transpose,
  // A learned position table over a G×G patch grid (MiniCPM-o's SigLIP, G = 70) for an
  // omnirm tower with an s×s grid, s ≤ G: row (i, j) takes the file's row
  // (⌊i·G/s⌋, ⌊j·G/s⌋), the bucketing MiniCPM-o itself applies to an s×s image.
  position_grid,
  // Fixed sinusoidal positions (Whisper's embed_positions): omnirm's first rows are the file's.
  leading_rows,
};

enum class NameStatus { mapped, ignored, unknown };

struct NameMapping {
  NameStatus status = NameStatus::unknown;
  std::string target;  // omnirm name when mapped
  TensorTransform transform = TensorTransform::copy;
  std::string reason;  // why, when ignored or unknown
  // Non-empty for tensors whose layout is known to differ structurally from omnirm's (e.g.
  // MiniCPM-o's resampler, which works at the LLM's width): a shape that does not fit is then
  // reported, with this reason, instead of refused.
  std::string mismatch_reason;
};

// Maps one file tensor name under `layout` to omnirm's name.
NameMapping map_hf_name(const std::string& name, HfLayout layout);

// The name an omnirm tensor takes in `layout` (omnirm, seq_cls, causal_lm, bare or
// minicpmo), with its transform; nullopt when the layout has no place for it (e.g. score.*
// in a bare decoder). score.* exports as v_head.summary.* under minicpmo (LLaMA-Factory's
// value head); omnirm tensors MiniCPM-o lacks (resampler.temporal_embedding.*,
// point_tower.*) export as omnirm_<name>, so a MiniCPM-o export loses nothing.
struct ExportName {
  std::string name;
  TensorTransform transform = TensorTransform::copy;
};
std::optional<ExportName> hf_export_name(const std::string& omnirm_name, HfLayout layout);

}  // namespace omnirm::model
