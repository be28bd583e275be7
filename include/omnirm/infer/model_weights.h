// Named weights into a reward model: reading an `omnirm export` directory back under
// omnirm's parameter names, reading one safetensors file, and copying a name → tensor map
// into a model with a report of every missing, unexpected or mis-shaped tensor.
#pragma once

#include <ATen/Tensor.h>

#include <map>
#include <string>

#include "omnirm/model/reward_model.h"

namespace omnirm::infer {

using WeightMap = std::map<std::string, at::Tensor>;

// Whether `dir` is an `omnirm export` directory (omnirm.yaml + model.safetensors or its
// shards with model.safetensors.index.json).
bool is_export_dir(const std::string& dir);

// An export's weights under omnirm's names: model.safetensors or its shards (the HF Qwen2
// sequence-classification names, which are omnirm's) and the value head from
// value_head.safetensors (v_head.summary.weight / .bias → score.weight / .bias). Only for
// an export in that layout (is_minicpmo_export false).
WeightMap read_export_weights(const std::string& dir);

// Whether the export directory `dir` holds its weights in MiniCPM-o-2.6's layout (llm.*,
// vpm.*, resampler.*, apm.*, ...; model/hf_names.h), as `omnirm export` writes a model with
// media towers.
bool is_minicpmo_export(const std::string& dir);

// Loads an export directory of either layout into `model`: every parameter must be filled
// (LoRA adapters may be absent when `adapters_optional`) and every file tensor used, else
// UserError naming `origin` and ending with `hint`, as copy_weights.
void load_export_weights(const std::string& dir, model::RewardModelImpl& model,
                         const std::string& origin, bool adapters_optional,
                         const std::string& hint);

// All tensors of one safetensors file by name.
WeightMap read_weight_file(const std::string& safetensors_path);

// Copies `weights` into `model` by name. Every parameter must be present with its shape and
// every tensor must be used, except that LoRA adapters (".lora_A." / ".lora_B.") may be
// absent when `adapters_optional`. Throws UserError naming `origin`, listing the missing,
// unexpected and mis-shaped tensors, and ending with `hint`.
void copy_weights(WeightMap weights, model::RewardModelImpl& model, const std::string& origin,
                  bool adapters_optional, const std::string& hint);

// copy_weights of one safetensors file (a checkpoint's model.safetensors), LoRA adapters
// included: every parameter must be there.
void load_model_weights(const std::string& safetensors_path, model::RewardModelImpl& model);

}  // namespace omnirm::infer
