// One optimizer step on one global batch: micro-batches with gradient accumulation, the BT
// loss, clipping and the AdamW update. Shared by the trainer and the benchmarks.
#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/train/dataset.h"

namespace omnirm::train {

struct StepStats {
  double loss = 0.0;            // mean BT loss over the global batch
  int64_t correct = 0;          // pairs with r_c > r_r
  int64_t data_tokens = 0;      // P + C + R summed over pairs
  int64_t backbone_tokens = 0;  // tokens the backbone processed (layout dependent)
  double grad_norm = 0.0;       // before clipping
};

// `indices`: the global batch (train.global_batch_pairs dataset indices), split into
// micro-batches of train.micro_batch_pairs. Sets every group's learning rate to `lr`.
StepStats optimizer_step(model::RewardModelImpl& model, torch::optim::Optimizer& optimizer,
                         const EncodedDataset& dataset, const std::vector<int64_t>& indices,
                         const Config& config, double lr, at::Device device);

}  // namespace omnirm::train
