// The training loop: AdamW with warmup + cosine, gradient accumulation to a global batch,
// clipping, periodic evaluation, metrics as JSONL, atomic checkpoints and exact resume
// (weights, optimizer, RNG and data position), bit-identical on CPU for the same config.
//
// Started with torchrun's variables (by `omnirm launch` or torchrun), it trains data-parallel:
// each rank takes its share of every global batch, gradients are averaged through
// dist::GradSync, optionally with ZeRO-1 optimizer sharding (dist.zero_stage), step metrics
// are all-reduced, and only rank 0 writes metrics and prints (every rank with dist.verbose).
#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/eval/pair_metrics.h"
#include "omnirm/infer/loaded_model.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::train {

struct TrainOptions {
  // "" starts fresh (refusing to overwrite a run that has checkpoints), "auto" resumes from
  // the newest checkpoint in train.output_dir if any, anything else is a checkpoint path.
  std::string resume;
};

struct TrainResult {
  int64_t steps = 0;
  std::optional<eval::EvalMetrics> final_eval;
  bool main_process = true;  // rank 0 (or a single process): the one that reports
};

TrainResult run_training(const Config& config, const TrainOptions& options);

// The device train.device names for the process with this LOCAL_RANK: the CPU, or GPU
// local_rank (modulo the GPUs it sees). Throws UserError for cuda without a GPU.
at::Device training_device(const std::string& setting, int64_t local_rank);

// Vocabulary of the model (infer/loaded_model.h).
using infer::model_vocab_size;

// The parameters that train: all but those of frozen adapters (model.freeze_*).
std::vector<at::Tensor> trainable_parameters(model::RewardModelImpl& model);

// Builds the AdamW optimizer over the trainable parameters: weight decay on matrices only
// (not on norms and biases).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(model::RewardModelImpl& model,
                                                        const TrainConfig& config);
// The same over a subset of the parameters (a ZeRO-1 shard); empty groups are left out.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<at::Tensor>& params,
                                                        const TrainConfig& config);

// Bytes of the optimizer's per-parameter state tensors (AdamW's moments).
int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer);

}  // namespace omnirm::train
