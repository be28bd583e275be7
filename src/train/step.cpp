// Implementation of train/step.h.
#include "omnirm/train/step.h"

#include <ATen/ATen.h>
#include <fmt/format.h>

#include <cmath>
#include <limits>

#include "omnirm/core/error.h"
#include "omnirm/dist/grad_sync.h"
#include "omnirm/dist/zero.h"
#include "omnirm/dist/zero_engine.h"
#include "omnirm/ops/autocast.h"
#include "omnirm/train/batching.h"

namespace omnirm::train {

namespace {

// Every trainable parameter must get a gradient on every rank in a data-parallel step, so the
// adapters a micro-batch does not use take part with an explicit zero.
at::Tensor zero_for_unused_adapters(model::RewardModelImpl& model,
                                    const model::MediaInputs& media) {
  const bool used_vision = media.images.defined() || media.video_frames.defined();
  const std::pair<const char*, bool> adapters[] = {{"vision_tower.", used_vision},
                                                   {"resampler.", used_vision},
                                                   {"audio_tower.", media.audio.defined()},
                                                   {"point_tower.", media.points.defined()}};
  at::Tensor zero;
  for (const auto& item : model.named_parameters()) {
    if (!item.value().requires_grad()) continue;
    for (const auto& [prefix, used] : adapters) {
      if (used || !item.key().starts_with(prefix)) continue;
      const at::Tensor term = item.value().sum() * 0.0;
      zero = zero.defined() ? zero + term : term;
    }
  }
  return zero;
}

at::Tensor device_zero(at::Device device, at::ScalarType dtype) {
  return at::zeros({}, at::TensorOptions().dtype(dtype).device(device));
}

// An empty share on the replicated path: a zero loss that reaches every parameter, so the
// all-reduce sees this rank's (zero) gradients.
at::Tensor zero_loss_over_parameters(model::RewardModelImpl& model, at::Device device) {
  at::Tensor weighted = device_zero(device, at::kFloat);
  for (const at::Tensor& p : model.parameters()) {
    if (p.requires_grad()) weighted = weighted + p.sum() * 0.0;
  }
  return weighted;
}

}  // namespace

double StepStats::loss_value() const { return loss.defined() ? loss.item<double>() : 0.0; }

int64_t StepStats::correct_value() const { return correct.defined() ? correct.item<int64_t>() : 0; }

double StepStats::grad_norm_value() const {
  return grad_norm.defined() ? grad_norm.item<double>() : 0.0;
}

void check_batch_split(const TrainConfig& config, int64_t world_size) {
  const int64_t per_step = world_size * config.micro_batch_pairs;
  if (config.global_batch_pairs % per_step != 0) {
    throw UserError(fmt::format(
        "train.global_batch_pairs ({}) must be divisible by the world size ({}) times "
        "train.micro_batch_pairs ({}) = {}; change one of them or the number of processes",
        config.global_batch_pairs, world_size, config.micro_batch_pairs, per_step));
  }
}

int64_t planned_micro_steps(int64_t global_pairs, int64_t world_size, int64_t micro_batch_pairs) {
  const int64_t largest_share = (global_pairs + world_size - 1) / world_size;
  return std::max<int64_t>(1, (largest_share + micro_batch_pairs - 1) / micro_batch_pairs);
}

at::Tensor clip_grad_norm(const std::vector<at::Tensor>& params, double max_norm) {
  std::vector<at::Tensor> with_grad;
  for (const at::Tensor& p : params) {
    if (p.grad().defined()) with_grad.push_back(p);
  }
  if (with_grad.empty()) return at::zeros({});
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> norms;
  norms.reserve(with_grad.size());
  for (const at::Tensor& p : with_grad) norms.push_back(p.grad().norm(2.0));
  at::Tensor total = norms.size() == 1 ? norms[0] : at::stack(norms).norm(2.0);
  const at::Tensor coefficient = at::clamp_max(max_norm / (total + 1e-6), 1.0);
  for (const at::Tensor& p : with_grad) p.grad().mul_(coefficient);
  return total;
}

StepStats optimizer_step(model::RewardModelImpl& model, torch::optim::Optimizer& optimizer,
                         const std::vector<PackedBatch>& micro_batches, int64_t global_pairs,
                         const Config& config, double lr, at::Device device,
                         const DataParallelStep& parallel, LossScaler* loss_scaler) {
  const TrainConfig& tc = config.train;
  const ops::Precision precision = ops::parse_precision(tc.precision, "train.precision");
  const double loss_scale = loss_scaler != nullptr ? loss_scaler->scale() : 1.0;
  TORCH_CHECK(global_pairs > 0, "optimizer_step: a global batch needs at least one pair");
  dist::ZeroEngine* zero = parallel.zero;
  TORCH_CHECK(zero == nullptr || (parallel.grad_sync == nullptr && parallel.shards == nullptr),
              "optimizer_step: the sharded optimizer replaces GradSync and ParameterShards");
  TORCH_CHECK(zero == nullptr || loss_scale == 1.0,
              "optimizer_step: the sharded optimizer has no fp16 loss scaling");
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
  // The model's gradients, not only the optimizer's: under ZeRO-1 it holds a shard.
  if (zero != nullptr) {
    zero->zero_grad();
  } else {
    model.zero_grad();
  }
  const auto world = double(parallel.world_size);
  StepStats stats;
  stats.loss = device_zero(device, at::kFloat);
  stats.correct = device_zero(device, at::kLong);
  stats.reward_chosen = device_zero(device, at::kFloat);
  stats.reward_rejected = device_zero(device, at::kFloat);
  const auto micro_steps = static_cast<int64_t>(micro_batches.size());
  // Stages 2 and 3 communicate on every micro-step, so every rank runs as many; a rank with
  // fewer micro-batches takes the missing ones as empty micro-steps.
  int64_t steps = std::max<int64_t>(micro_steps, 1);
  if (zero != nullptr && zero->stage() >= 2) {
    steps = std::max(steps,
                     planned_micro_steps(global_pairs, parallel.world_size, tc.micro_batch_pairs));
  }
  for (int64_t k = 0; k < steps; ++k) {
    const bool sync = k == steps - 1;
    if (parallel.grad_sync != nullptr) parallel.grad_sync->before_forward(sync);
    if (zero != nullptr) zero->before_forward(sync);
    if (k >= micro_steps) {
      if (zero != nullptr) {
        zero->empty_micro_step();
        zero->after_backward();
        continue;
      }
      at::Tensor weighted = zero_loss_over_parameters(model, device);
      if (parallel.grad_sync != nullptr) {
        parallel.grad_sync->backward(weighted, sync);
      } else {
        weighted.backward();
      }
      continue;
    }
    const PackedBatch& packed = micro_batches[static_cast<size_t>(k)];
    const data::PairBatch& batch = packed.pairs;
    if (parallel.probe != nullptr) parallel.probe->forward_begin();
    const model::ModelInputs inputs = make_model_inputs(packed, device);
    model::RewardLoss out;
    {
      ops::AutocastScope autocast(device.type(), precision);
      out = model.loss(inputs, tc.centering);  // the fused head + loss on CUDA
    }
    if (parallel.probe != nullptr) parallel.probe->forward_end();
    const double weight = double(batch.pairs()) * world / double(global_pairs);
    at::Tensor weighted = out.loss * weight;
    if (parallel.grad_sync != nullptr) {
      const at::Tensor zero_term = zero_for_unused_adapters(model, inputs.media);
      if (zero_term.defined()) weighted = weighted + zero_term;
    }
    stats.loss += out.loss.detach() * weight;
    stats.correct += (out.chosen > out.rejected).sum();
    stats.reward_chosen += out.chosen.sum();
    stats.reward_rejected += out.rejected.sum();
    stats.pairs += batch.pairs();
    stats.data_tokens += batch.data_tokens;
    stats.backbone_tokens += batch.tokens_in_batch();
    stats.media_items += packed.media_items;
    const model::MediaInputs& media = packed.media;
    stats.vision_items += (media.images.defined() ? media.images.size(0) : 0) +
                          (media.video_frames.defined() ? media.video_frames.size(0) : 0);
    stats.audio_items += media.audio.defined() ? media.audio.size(0) : 0;
    stats.point_items += media.points.defined() ? media.points.size(0) : 0;
    // A token at position p attends to p + 1 keys in either layout.
    for (int32_t p : batch.positions) stats.attention_keys += int64_t(p) + 1;
    if (loss_scale != 1.0) weighted = weighted * loss_scale;
    if (parallel.grad_sync != nullptr) {
      parallel.grad_sync->backward(weighted, sync);
    } else {
      weighted.backward();
    }
    if (zero != nullptr) zero->after_backward();
  }
  const double max_norm =
      tc.max_grad_norm > 0.0 ? tc.max_grad_norm : std::numeric_limits<double>::infinity();
  stats.loss_scale = loss_scale;
  if (zero != nullptr) {
    stats.grad_norm = zero->clip_grad_norm(max_norm);
    optimizer.step();
    zero->after_optimizer_step();
    return stats;
  }
  if (loss_scale != 1.0) {
    torch::NoGradGuard no_grad;
    for (const at::Tensor& p : model.parameters()) {
      if (p.grad().defined()) p.grad().mul_(1.0 / loss_scale);
    }
  }
  stats.grad_norm = clip_grad_norm(model.parameters(), max_norm);
  // fp16 only: whether to skip the update is decided on the host.
  const bool apply = loss_scaler == nullptr || !loss_scaler->enabled() ||
                     loss_scaler->update(std::isfinite(stats.grad_norm_value()));
  stats.skipped = !apply;
  if (apply) optimizer.step();
  if (parallel.shards != nullptr) parallel.shards->gather();
  return stats;
}

StepStats optimizer_step(model::RewardModelImpl& model, torch::optim::Optimizer& optimizer,
                         const EncodedDataset& dataset, const std::vector<int64_t>& indices,
                         const Config& config, double lr, at::Device device,
                         const DataParallelStep& parallel, LossScaler* loss_scaler) {
  const int64_t micro = config.train.micro_batch_pairs;
  const int64_t world = parallel.world_size;
  const auto global_pairs = static_cast<int64_t>(indices.size());
  std::vector<PackedBatch> mine;
  for (int64_t first = parallel.rank * micro; first < global_pairs; first += world * micro) {
    const int64_t last = std::min(global_pairs, first + micro);
    const std::vector<int64_t> micro_indices(indices.begin() + first, indices.begin() + last);
    mine.push_back(
        batch_of(dataset, micro_indices, config.model.prefix_sharing, config.train.margin_scale));
  }
  return optimizer_step(model, optimizer, mine, global_pairs, config, lr, device, parallel,
                        loss_scaler);
}

}  // namespace omnirm::train
