// train.init_from (`omnirm train --init-from DIR`): fine-tuning starts from trained weights
// instead of a random initialisation. DIR is an `omnirm export` directory (model.safetensors
// in the HF layout, value_head.safetensors, omnirm.yaml) or a checkpoint / run directory. The
// model's shape comes from DIR, and so does the tokenizer unless data.tokenizer names one.
#pragma once

#include <string>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"

namespace omnirm::train {

// `config` with the model section (and an empty data.tokenizer) taken from
// config.train.init_from; `config` itself when init_from is empty. Throws UserError when the
// directory is neither an export nor a checkpoint.
Config resolve_init_from(const Config& config);

// Copies the weights of `source` into `model`'s base parameters (every one must be there
// with its shape; LoRA adapters, which the source does not have, are left alone). A source
// trained with LoRA is merged first. Throws UserError naming missing, unexpected or
// mismatched tensors.
void load_initial_weights(model::RewardModelImpl& model, const std::string& source);

}  // namespace omnirm::train
