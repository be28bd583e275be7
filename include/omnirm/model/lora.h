// LoRA fine-tuning of the reward model: adapters on the backbone's linear projections named
// by lora.target_modules, everything else frozen except the value head ("score.*"), which
// trains in full. Merging folds the adapters into the base weights (for export); the adapters
// alone export under PEFT's adapter_model.safetensors names.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"

namespace omnirm::model {

// The projection names lora.target_modules selects ("all": every one), in a fixed order.
std::vector<std::string> lora_target_modules(const LoraConfig& lora);

// Freezes every parameter, adds adapters to the targeted projections of every decoder layer,
// and unfreezes the value head. Adapter A matrices draw from the global torch generator.
// Requires lora.rank > 0; returns the number of projections adapted.
int64_t apply_lora(RewardModelImpl& model, const LoraConfig& lora);

// Whether a parameter name is an adapter's ("....lora_A.weight" / "....lora_B.weight").
bool is_lora_parameter(const std::string& name);

// Whether any projection of the model carries an adapter.
bool has_lora(RewardModelImpl& model);

// Folds every adapter into its base weight and removes it; the model then has exactly the
// parameters (names and shapes) of a model without LoRA.
void merge_lora(RewardModelImpl& model);

// The adapters and the value head under PEFT's names for a sequence-classification model:
// "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", ...,
// "base_model.model.score.weight" (and .bias).
std::vector<std::pair<std::string, at::Tensor>> peft_adapter_tensors(RewardModelImpl& model);

}  // namespace omnirm::model
