// Implementation of train/step.h.
#include "omnirm/train/step.h"

#include <ATen/ATen.h>
#include <torch/nn/utils/clip_grad.h>

#include <limits>

#include "omnirm/ops/bt_loss.h"
#include "omnirm/train/batching.h"

namespace omnirm::train {

StepStats optimizer_step(model::RewardModelImpl& model, torch::optim::Optimizer& optimizer,
                         const EncodedDataset& dataset, const std::vector<int64_t>& indices,
                         const Config& config, double lr, at::Device device) {
  const TrainConfig& tc = config.train;
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
  optimizer.zero_grad();
  const int64_t micro = tc.micro_batch_pairs;
  const double micro_weight = double(micro) / double(indices.size());
  StepStats stats;
  for (size_t first = 0; first < indices.size(); first += static_cast<size_t>(micro)) {
    const std::vector<int64_t> micro_indices(indices.begin() + static_cast<int64_t>(first),
                                             indices.begin() + static_cast<int64_t>(first) + micro);
    const data::PairBatch batch =
        batch_of(dataset, micro_indices, config.model.prefix_sharing, tc.margin_scale);
    const model::ModelInputs inputs = make_model_inputs(batch, device);
    const model::RewardOutput rewards = model.forward(inputs);
    const at::Tensor loss =
        ops::bt_loss(rewards.chosen, rewards.rejected, inputs.margins, tc.centering);
    (loss * micro_weight).backward();
    stats.loss += loss.item<double>() * micro_weight;
    stats.correct += (rewards.chosen > rewards.rejected).sum().item<int64_t>();
    stats.data_tokens += batch.data_tokens;
    stats.backbone_tokens += batch.tokens_in_batch();
  }
  const double max_norm =
      tc.max_grad_norm > 0.0 ? tc.max_grad_norm : std::numeric_limits<double>::infinity();
  stats.grad_norm = torch::nn::utils::clip_grad_norm_(model.parameters(), max_norm);
  optimizer.step();
  return stats;
}

}  // namespace omnirm::train
