// The optimizer state of a checkpoint, sharded the same way for every ZeRO stage and world
// size: each writing rank stores rank-RRRRR-optimizer.safetensors holding pieces of
// parameters — "master/NAME@B", "exp_avg/NAME@B", "exp_avg_sq/NAME@B", each the fp32 values
// of elements [B, B + n) of parameter NAME flattened — and the AdamW step count in its
// metadata. Because a piece names its parameter and range, not a rank's slice, any number of
// ranks at any stage reads back exactly the ranges it needs (re-sharding on load), and an
// export consolidates one full tensor at a time. Files are read through memory mappings, so
// reading a range touches only its pages.
#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "omnirm/dist/zero_engine.h"
#include "omnirm/io/safetensors_mapping.h"
#include "omnirm/model/reward_model.h"

namespace omnirm::train {

// "rank-00003-optimizer.safetensors"
std::string optimizer_shard_name(int64_t rank);

// One piece: 1-D fp32 tensors of the same length; exp_avg / exp_avg_sq undefined when the
// optimizer holds no state for it yet.
struct StatePiece {
  std::string param;
  int64_t begin = 0;
  at::Tensor master;
  at::Tensor exp_avg;
  at::Tensor exp_avg_sq;
};

// The pieces of the sharded optimizer's state on this rank, and the AdamW step count.
std::vector<StatePiece> engine_state_pieces(const dist::ZeroEngine& engine,
                                            torch::optim::Optimizer& optimizer, int64_t* adam_step);
// The same for AdamW stepping the model's parameters themselves (the optimizer's parameters:
// all of them, or a ZeRO-1 rank's share).
std::vector<StatePiece> replicated_state_pieces(model::RewardModelImpl& model,
                                                torch::optim::Optimizer& optimizer,
                                                int64_t* adam_step);

void write_optimizer_shard(const std::string& path, const std::vector<StatePiece>& pieces,
                           int64_t adam_step);

class OptimizerShardReader {
 public:
  // Maps `dir`/rank-00000- … rank-(files − 1)-optimizer.safetensors; a missing file is a
  // UserError naming it.
  OptimizerShardReader(const std::string& dir, int64_t files);
  ~OptimizerShardReader();

  int64_t adam_step() const { return adam_step_; }
  // Copies `kind` ("master" | "exp_avg" | "exp_avg_sq") of `param`'s elements [begin, end)
  // into `out` ([end − begin], any device and float dtype). Returns false when the files hold
  // no such state for the parameter; a range only partly present is a UserError.
  bool read(const std::string& kind, const std::string& param, int64_t begin, int64_t end,
            at::Tensor out) const;
  // Whether the files hold `kind` of `param` at all.
  bool contains(const std::string& kind, const std::string& param) const;

 private:
  struct Piece {
    int64_t begin = 0;
    int64_t end = 0;
    size_t file = 0;
    std::string tensor;
  };
  std::string dir_;
  std::vector<std::unique_ptr<io::SafetensorsMapping>> files_;
  std::map<std::string, std::vector<Piece>> pieces_;  // "kind/param" → pieces by begin
  int64_t adam_step_ = 0;
};

// Restores the sharded optimizer: master pieces, AdamW state and then the working parameters.
void load_engine_state(const OptimizerShardReader& reader, dist::ZeroEngine& engine,
                       torch::optim::Optimizer& optimizer);
// Restores AdamW stepping the parameters themselves: every trainable parameter's value from
// its master copy, and the state of the optimizer's own parameters.
void load_replicated_state(const OptimizerShardReader& reader, model::RewardModelImpl& model,
                           torch::optim::Optimizer& optimizer);

}  // namespace omnirm::train
