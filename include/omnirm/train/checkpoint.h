// Training checkpoints: <output_dir>/checkpoints/step-NNNNNNNN/ holding
//   model.safetensors    weights under HF Qwen2 names (model.*, score.*)
//   optimizer.pt         AdamW state
//   rng.safetensors      the CPU generator state
//   trainer_state.json   step, the loader's position, seed, world size, ZeRO stage, and the
//                        best evaluation so far (best_step, best_value, best_metric)
//   config.yaml          the full resolved config
//   tokenizer.model      the tokenizer, so the directory is self-contained (tokenizer.json
//                        when the run used an HF tokenizer.json)
// Written atomically (temporary directory, fsync, rename); keep-last-N pruning.
//
// Written by several ranks (output_dir on a filesystem they share), rank 0 writes the model,
// config, tokenizer and trainer state once, and every rank r writes its own
//   rank-RRRRR-data.json          its loader position (the same on every rank: checked)
//   rank-RRRRR-rng.safetensors    its CPU generator state
//   rank-RRRRR-optimizer.pt       its optimizer shard (ZeRO-1; else rank 0 writes optimizer.pt)
// into rank 0's temporary directory; rank 0 renames it into place only after every rank has
// written (a barrier), and all ranks continue only after the rename. Resuming needs the same
// world size and ZeRO stage.
#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <optional>
#include <string>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::dist {
class Communicator;
}

namespace omnirm::train {

struct TrainerState {
  int64_t step = 0;  // optimizer steps completed
  int64_t total_steps = 0;
  int64_t epoch = 0;          // the epoch the next batch comes from (for reports)
  std::string data_position;  // data::LoaderPosition::to_json() of the next batch
  int64_t seed = 0;
  int64_t world_size = 1;  // ranks that trained together
  int64_t zero_stage = 0;  // 1: the optimizer state is sharded over the ranks
  // The best evaluation so far under train.best_metric (best_step 0: none yet); the step's
  // model is kept as checkpoints/best (train/best_checkpoint.h).
  int64_t best_step = 0;
  double best_value = 0.0;
  std::string best_metric;
  // fp16 dynamic loss scaling (train/loss_scaler.h); 0: not used by this run.
  double loss_scale = 0.0;
  int64_t skipped_steps = 0;
};

// The ranks that write or read a checkpoint together; the default is a single process.
struct CheckpointRanks {
  dist::Communicator* comm = nullptr;
  bool sharded_optimizer = false;  // ZeRO-1: each rank holds its own optimizer shard
};

std::string checkpoints_dir(const std::string& output_dir);
std::string checkpoint_path(const std::string& output_dir, int64_t step);

// Called by every rank of `ranks` with the same state.
void save_checkpoint(const std::string& output_dir, model::RewardModelImpl& model,
                     torch::optim::Optimizer& optimizer, const TrainerState& state,
                     const Config& config, const std::string& tokenizer_path,
                     const CheckpointRanks& ranks = {});

// The newest complete checkpoint under output_dir, if any (temporary dirs are ignored).
std::optional<std::string> latest_checkpoint(const std::string& output_dir);

// Removes all but the newest `keep_last` checkpoints and any stale temporary directories.
void prune_checkpoints(const std::string& output_dir, int64_t keep_last);

// Restores model, optimizer and RNG state from a checkpoint directory; returns its state.
// Throws UserError when it was written by a different number of ranks or ZeRO stage.
TrainerState load_checkpoint(const std::string& dir, model::RewardModelImpl& model,
                             torch::optim::Optimizer& optimizer, const CheckpointRanks& ranks = {});

// Copies weights from a safetensors file into the model. Missing or unexpected tensors and
// shape mismatches are reported by name in one UserError.
void load_model_weights(const std::string& safetensors_path, model::RewardModelImpl& model);

// The checkpoint `path` names: itself when it holds model.safetensors, else a run
// directory's newest checkpoint; nothing when it is neither.
std::optional<std::string> checkpoint_dir_in(const std::string& path);

// A model ready to score: from a checkpoint directory, a run's output directory (its newest
// checkpoint) or an `omnirm export` directory. A checkpoint of a LoRA run (lora.rank > 0)
// comes with its adapters, unmerged.
struct LoadedModel {
  std::string dir;
  Config config;
  text::Tokenizer tokenizer;
  model::RewardModel model{nullptr};
};
LoadedModel load_model_dir(const std::string& path);

}  // namespace omnirm::train
