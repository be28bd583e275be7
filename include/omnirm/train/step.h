// One optimizer step on one global batch: micro-batches with gradient accumulation, the BT
// loss, clipping and the AdamW update. Shared by the trainer and the benchmarks.
//
// The step never waits for the device: statistics computed from tensors (loss, accuracy,
// rewards, the gradient norm) stay device tensors in StepStats, to be read once per log
// interval (train/interval_stats.h). The one exception is fp16 loss scaling, whose decision
// to skip an update is made on the host.
//
// Data parallel: each rank brings its own share of the global batch as packed micro-batches
// and weights each micro-loss by (its pairs · world / global pairs), so averaging over the
// ranks gives the single-process gradient of the mean loss, whatever the shares' sizes. A
// rank whose share is empty still takes part with a zero gradient. Clipping runs after the
// gradients are averaged, so every rank clips the same way.
#pragma once

#include <torch/optim/optimizer.h>

#include <cstdint>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/train/batching.h"
#include "omnirm/train/dataset.h"
#include "omnirm/train/loss_scaler.h"

namespace omnirm::dist {
class GradSync;
class ParameterShards;
class ZeroEngine;
}  // namespace omnirm::dist

namespace omnirm::train {

// Told where each micro-step's forward pass begins and ends (benchmarks measure what the
// forward pass keeps for backward).
class StepProbe {
 public:
  virtual ~StepProbe() = default;
  virtual void forward_begin() = 0;
  virtual void forward_end() = 0;
};

// This process's part in a data-parallel step; the default is a single process.
struct DataParallelStep {
  int64_t rank = 0;
  int64_t world_size = 1;
  dist::GradSync* grad_sync = nullptr;      // averages gradients on the last micro-step
  dist::ParameterShards* shards = nullptr;  // ZeRO-1: spreads the updated shards afterwards
  // The sharded optimizer (train.param_dtype bf16, dist.zero_stage 2 and 3): it reduces the
  // gradients, clips them and keeps the master weights; the optimizer steps its pieces.
  dist::ZeroEngine* zero = nullptr;
  StepProbe* probe = nullptr;
};

struct StepStats {
  // Device tensors (0-dim), summed over this rank's micro-batches:
  at::Tensor loss;             // fp32: this rank's share of the mean BT loss of the global batch
  at::Tensor correct;          // int64: pairs with r_c > r_r
  at::Tensor reward_chosen;    // fp32: the sum of r_c
  at::Tensor reward_rejected;  // fp32: the sum of r_r
  at::Tensor grad_norm;        // fp32: the global gradient norm before clipping
  // Host counts:
  int64_t pairs = 0;            // pairs trained on
  int64_t data_tokens = 0;      // P + C + R summed over pairs
  int64_t backbone_tokens = 0;  // tokens the backbone processed (layout dependent)
  int64_t media_items = 0;      // adapter inputs encoded (layout dependent)
  int64_t vision_items = 0;     // of which images and video frames
  int64_t audio_items = 0;      // audio clips
  int64_t point_items = 0;      // point clouds
  int64_t attention_keys = 0;   // (query, key) pairs the attention mask allows
  bool skipped = false;         // fp16: the gradients overflowed and the update was skipped
  double loss_scale = 1.0;      // the fp16 loss scale the step used (1 otherwise)

  // The device values on the host (each a synchronisation: for reports and tests).
  double loss_value() const;
  int64_t correct_value() const;
  double grad_norm_value() const;
};

// `micro_batches`: this rank's share of a global batch of `global_pairs` pairs, packed.
// The forward pass computes in train.precision (autocast; rewards and loss in fp32). For fp16,
// `loss_scaler` scales the loss and may skip the update (see train/loss_scaler.h); without
// one fp16 runs unscaled.
// Sets every group's learning rate to `lr`. The statistics are this rank's own (loss: its
// share of the global mean, so the ranks' losses sum to it · world); grad_norm is global.
StepStats optimizer_step(model::RewardModelImpl& model, torch::optim::Optimizer& optimizer,
                         const std::vector<PackedBatch>& micro_batches, int64_t global_pairs,
                         const Config& config, double lr, at::Device device,
                         const DataParallelStep& parallel = {}, LossScaler* loss_scaler = nullptr);

// The global L2 norm of the parameters' gradients as a 0-dim tensor on their device (no host
// synchronisation); with a finite `max_norm` the gradients are scaled by
// min(1, max_norm / (norm + 1e-6)), the arithmetic of torch::nn::utils::clip_grad_norm_.
at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm);

// The same for a global batch given as dataset indices (train.global_batch_pairs of them),
// cut into micro-batches of train.micro_batch_pairs dealt round-robin over the ranks.
StepStats optimizer_step(model::RewardModelImpl& model, torch::optim::Optimizer& optimizer,
                         const EncodedDataset& dataset, const std::vector<int64_t>& indices,
                         const Config& config, double lr, at::Device device,
                         const DataParallelStep& parallel = {}, LossScaler* loss_scaler = nullptr);

// Throws UserError unless `global_batch_pairs` splits into whole micro-batches dealt evenly
// over `world_size` ranks.
void check_batch_split(const TrainConfig& config, int64_t world_size);

// Micro-steps every rank runs for a global batch of `global_pairs` under stages 2 and 3,
// which communicate on every micro-step: the most any rank's share can need.
int64_t planned_micro_steps(int64_t global_pairs, int64_t world_size, int64_t micro_batch_pairs);

}  // namespace omnirm::train
