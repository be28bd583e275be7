// The training loop: AdamW with warmup + cosine, gradient accumulation to a global batch,
// clipping, periodic evaluation, metrics as JSONL, atomic checkpoints and exact resume
// (weights, optimizer, RNG and data position), bit-identical on CPU for the same config.
#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/train/evaluator.h"

namespace omnirm::train {

struct TrainOptions {
  // "" starts fresh (refusing to overwrite a run that has checkpoints), "auto" resumes from
  // the newest checkpoint in train.output_dir if any, anything else is a checkpoint path.
  std::string resume;
};

struct TrainResult {
  int64_t steps = 0;
  std::optional<EvalMetrics> final_eval;
};

TrainResult run_training(const Config& config, const TrainOptions& options);

// Vocabulary of the model: model.vocab_size when set (must cover the tokenizer), else the
// tokenizer's.
int64_t model_vocab_size(const ModelConfig& config, const text::Tokenizer& tokenizer);

// Builds the AdamW optimizer: weight decay on matrices only (not on norms and biases).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(model::RewardModelImpl& model,
                                                        const TrainConfig& config);

}  // namespace omnirm::train
