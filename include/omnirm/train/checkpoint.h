// Training checkpoints: <output_dir>/checkpoints/step-NNNNNNNN/ holding
//   model.safetensors    the working weights under omnirm's names (model.*, score.*, towers),
//                        in train.param_dtype (written by rank 0; under ZeRO-3 one unit at a
//                        time, each gathered while it is written)
//   rank-RRRRR-optimizer.safetensors
//                        the optimizer state as pieces of parameters (train/optimizer_shards.h):
//                        fp32 master values and AdamW moments. Every rank writes its shard
//                        (one file from rank 0 when every rank holds the same full state)
//   rank-RRRRR-rng.safetensors   each rank's CPU generator state
//   rank-RRRRR-data.json         each rank's loader position (the same on every rank: checked)
//   trainer_state.json   step, the loader's position, seed, world size, ZeRO stage, parameter
//                        dtype, the number of optimizer shards, the trainable parameters'
//                        names and shapes, and the best evaluation so far
//   config.yaml          the full resolved config
//   tokenizer.model      the tokenizer, so the directory is self-contained (tokenizer.json
//                        when the run used an HF tokenizer.json)
// Written atomically: the ranks write into rank 0's temporary directory, rank 0 renames it into
// place only after every rank has written (a barrier), and all ranks continue only after the
// rename; keep-last-N pruning. No rank ever holds another rank's optimizer state.
//
// Resuming re-shards: the optimizer pieces are read back by parameter and range, so a run may
// continue on another number of ranks or at another ZeRO stage (or parameter dtype). With the
// same world size and stage it continues bit for bit on the CPU; with another it continues the
// same run (same data order, weights and optimizer state; the gradients are summed in another
// order, and rank r takes the random generator state of rank r mod the old world size).
//
// Finding checkpoints (the newest of a run, ...) and loading a model from one for scoring
// belong to the inference area (infer/checkpoint_dirs.h, infer/loaded_model.h).
#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/infer/checkpoint_dirs.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::dist {
class Communicator;
class ZeroEngine;
}  // namespace omnirm::dist

namespace omnirm::train {

struct TrainerState {
  int64_t step = 0;  // optimizer steps completed
  int64_t total_steps = 0;
  int64_t epoch = 0;          // the epoch the next batch comes from (for reports)
  std::string data_position;  // data::LoaderPosition::to_json() of the next batch
  int64_t seed = 0;
  int64_t world_size = 1;  // ranks that trained together
  int64_t zero_stage = 0;  // dist.zero_stage
  std::string param_dtype = "fp32";
  int64_t optimizer_shards = 1;  // rank-RRRRR-optimizer.safetensors files
  // The trainable parameters (name, shape) in the model's order: what the optimizer state is
  // about. Filled by save_checkpoint.
  std::vector<std::pair<std::string, std::vector<int64_t>>> trainable;
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
  bool sharded_optimizer = false;    // ZeRO-1 on the replicated path: each rank its own shard
  dist::ZeroEngine* zero = nullptr;  // the sharded optimizer (train/zero_training.h)
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

// Resuming, in the order the trainer needs: the state (refusing checkpoints of an earlier
// format), the check that this run trains the same parameters, the weights (before a
// sharded optimizer takes the parameters over), then the optimizer state and this rank's
// random generator. Each throws UserError naming the file at fault.
TrainerState read_checkpoint_state(const std::string& dir);
void check_checkpoint_layout(const std::string& dir, const TrainerState& state,
                             model::RewardModelImpl& model);
void load_checkpoint_weights(const std::string& dir, model::RewardModelImpl& model);
void load_checkpoint_optimizer(const std::string& dir, const TrainerState& state,
                               model::RewardModelImpl& model, torch::optim::Optimizer& optimizer,
                               const CheckpointRanks& ranks = {});
void load_checkpoint_rng(const std::string& dir, const TrainerState& state,
                         const CheckpointRanks& ranks = {});

}  // namespace omnirm::train
