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
// Finding checkpoints (the newest of a run, ...) and loading a model from one for scoring
// belong to the inference area (infer/checkpoint_dirs.h, infer/loaded_model.h).
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
#include "omnirm/infer/checkpoint_dirs.h"
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

using infer::checkpoint_dir_in;
using infer::checkpoint_path;
using infer::checkpoints_dir;
using infer::latest_checkpoint;

// Called by every rank of `ranks` with the same state.
void save_checkpoint(const std::string& output_dir, model::RewardModelImpl& model,
                     torch::optim::Optimizer& optimizer, const TrainerState& state,
                     const Config& config, const std::string& tokenizer_path,
                     const CheckpointRanks& ranks = {});

// Removes all but the newest `keep_last` checkpoints and any stale temporary directories.
void prune_checkpoints(const std::string& output_dir, int64_t keep_last);

// Restores model, optimizer and RNG state from a checkpoint directory; returns its state.
// Throws UserError when it was written by a different number of ranks or ZeRO stage.
TrainerState load_checkpoint(const std::string& dir, model::RewardModelImpl& model,
                             torch::optim::Optimizer& optimizer, const CheckpointRanks& ranks = {});

}  // namespace omnirm::train
