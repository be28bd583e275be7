// Implementation of train/step.h.
#include "omnirm/train/step.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/nn/utils/clip_grad.h>

#include <limits>

#include "omnirm/core/error.h"
#include "omnirm/dist/grad_sync.h"
#include "omnirm/dist/zero.h"
#include "omnirm/ops/bt_loss.h"
#include "omnirm/train/batching.h"

namespace omnirm::train {

void check_batch_split(const TrainConfig& config, int64_t world_size) {
  const int64_t per_step = world_size * config.micro_batch_pairs;
  if (config.global_batch_pairs % per_step != 0) {
    throw UserError(fmt::format(
        "train.global_batch_pairs ({}) must be divisible by the world size ({}) times "
        "train.micro_batch_pairs ({}) = {}; change one of them or the number of processes",
        config.global_batch_pairs, world_size, config.micro_batch_pairs, per_step));
  }
}

StepStats optimizer_step(model::RewardModelImpl& model, torch::optim::Optimizer& optimizer,
                         const EncodedDataset& dataset, const std::vector<int64_t>& indices,
                         const Config& config, double lr, at::Device device,
                         const DataParallelStep& parallel) {
  const TrainConfig& tc = config.train;
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
  // The model's gradients, not only the optimizer's: under ZeRO-1 it holds a shard.
  model.zero_grad();
  const int64_t micro = tc.micro_batch_pairs;
  const int64_t world = parallel.world_size;
  const auto local_pairs = static_cast<int64_t>(indices.size()) / world;
  const int64_t micro_steps = local_pairs / micro;
  const double micro_weight = double(micro) / double(local_pairs);
  StepStats stats;
  for (int64_t k = 0; k < micro_steps; ++k) {
    const int64_t first = (parallel.rank + k * world) * micro;
    const std::vector<int64_t> micro_indices(indices.begin() + first,
                                             indices.begin() + first + micro);
    const bool sync = k == micro_steps - 1;
    if (parallel.grad_sync != nullptr) parallel.grad_sync->before_forward(sync);
    const data::PairBatch batch =
        batch_of(dataset, micro_indices, config.model.prefix_sharing, tc.margin_scale);
    const model::ModelInputs inputs = make_model_inputs(batch, device);
    const model::RewardOutput rewards = model.forward(inputs);
    const at::Tensor loss =
        ops::bt_loss(rewards.chosen, rewards.rejected, inputs.margins, tc.centering);
    const at::Tensor weighted = loss * micro_weight;
    if (parallel.grad_sync != nullptr) {
      parallel.grad_sync->backward(weighted, sync);
    } else {
      weighted.backward();
    }
    stats.loss += loss.item<double>() * micro_weight;
    stats.correct += (rewards.chosen > rewards.rejected).sum().item<int64_t>();
    stats.data_tokens += batch.data_tokens;
    stats.backbone_tokens += batch.tokens_in_batch();
  }
  const double max_norm =
      tc.max_grad_norm > 0.0 ? tc.max_grad_norm : std::numeric_limits<double>::infinity();
  stats.grad_norm = torch::nn::utils::clip_grad_norm_(model.parameters(), max_norm);
  optimizer.step();
  if (parallel.shards != nullptr) parallel.shards->gather();
  return stats;
}

}  // namespace omnirm::train
