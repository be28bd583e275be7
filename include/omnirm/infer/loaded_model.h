// A model ready to score, loaded from a checkpoint directory, a run's output directory (its
// newest checkpoint) or an `omnirm export` directory, with the config and tokenizer it was
// trained with. eval, score, serve and the benchmarks start here.
#pragma once

#include <cstdint>
#include <string>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::infer {

struct LoadedModel {
  std::string dir;  // the checkpoint or export directory actually read
  Config config;
  text::Tokenizer tokenizer;
  model::RewardModel model{nullptr};  // in eval mode, on the CPU
};

// A checkpoint of a LoRA run (lora.rank > 0) comes with its adapters, unmerged; an export is
// merged already. Throws UserError naming `path` when it is none of the three, or when its
// weights do not fit its config.
LoadedModel load_model_dir(const std::string& path);

// Vocabulary of the model: model.vocab_size when set (must cover the tokenizer), else the
// tokenizer's. Throws UserError when it is smaller than the tokenizer's.
int64_t model_vocab_size(const ModelConfig& config, const text::Tokenizer& tokenizer);

}  // namespace omnirm::infer
