// Training checkpoints: <output_dir>/checkpoints/step-NNNNNNNN/ holding
//   model.safetensors    weights under HF Qwen2 names (model.*, score.*)
//   optimizer.pt         AdamW state
//   rng.safetensors      the CPU generator state
//   trainer_state.json   step, data position, seed, dataset size
//   config.yaml          the full resolved config
//   tokenizer.model      the tokenizer, so the directory is self-contained
// Written atomically (temporary directory, fsync, rename); keep-last-N pruning.
#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <optional>
#include <string>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::train {

struct TrainerState {
  int64_t step = 0;  // optimizer steps completed
  int64_t total_steps = 0;
  int64_t epoch = 0;   // data position: next batch comes from this epoch...
  int64_t offset = 0;  // ...starting at this index of its order
  int64_t dataset_size = 0;
  int64_t seed = 0;
};

std::string checkpoints_dir(const std::string& output_dir);
std::string checkpoint_path(const std::string& output_dir, int64_t step);

void save_checkpoint(const std::string& output_dir, model::RewardModelImpl& model,
                     torch::optim::Optimizer& optimizer, const TrainerState& state,
                     const Config& config, const std::string& tokenizer_path);

// The newest complete checkpoint under output_dir, if any (temporary dirs are ignored).
std::optional<std::string> latest_checkpoint(const std::string& output_dir);

// Removes all but the newest `keep_last` checkpoints and any stale temporary directories.
void prune_checkpoints(const std::string& output_dir, int64_t keep_last);

// Restores model, optimizer and RNG state from a checkpoint directory; returns its state.
TrainerState load_checkpoint(const std::string& dir, model::RewardModelImpl& model,
                             torch::optim::Optimizer& optimizer);

// Copies weights from a safetensors file into the model. Missing or unexpected tensors and
// shape mismatches are reported by name in one UserError.
void load_model_weights(const std::string& safetensors_path, model::RewardModelImpl& model);

// A model ready to score: from a checkpoint directory, or from a run's output directory
// (its newest checkpoint).
struct LoadedModel {
  std::string dir;
  Config config;
  text::Tokenizer tokenizer;
  model::RewardModel model{nullptr};
};
LoadedModel load_model_dir(const std::string& path);

}  // namespace omnirm::train
