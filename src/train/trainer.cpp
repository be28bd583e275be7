// Implementation of train/trainer.h.
#include "omnirm/train/trainer.h"

#include <ATen/ATen.h>
#include <fmt/format.h>
#include <torch/cuda.h>
#include <torch/optim/adamw.h>

#include "omnirm/core/error.h"
#include "omnirm/train/training_run.h"

namespace omnirm::train {

at::Device training_device(const std::string& setting, int64_t local_rank) {
  const auto gpus = static_cast<int64_t>(torch::cuda::device_count());
  if (setting == "cpu" || (setting == "auto" && gpus == 0)) return at::Device(at::kCPU);
  if (gpus == 0) {
    throw UserError(
        "train.device: cuda, but this process sees no CUDA device; set train.device=cpu (or "
        "auto) or check CUDA_VISIBLE_DEVICES");
  }
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(local_rank % gpus));
}

std::vector<at::Tensor> trainable_parameters(model::RewardModelImpl& model) {
  std::vector<at::Tensor> trainable;
  for (const at::Tensor& p : model.parameters()) {
    if (p.requires_grad()) trainable.push_back(p);
  }
  return trainable;
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(model::RewardModelImpl& model,
                                                        const TrainConfig& config) {
  return make_optimizer(trainable_parameters(model), config);
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const std::vector<at::Tensor>& params,
                                                        const TrainConfig& config) {
  std::vector<at::Tensor> decay, no_decay;
  for (const auto& p : params) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  return make_adamw(decay, no_decay, config);
}

std::unique_ptr<torch::optim::Optimizer> make_adamw(const std::vector<at::Tensor>& decay,
                                                    const std::vector<at::Tensor>& no_decay,
                                                    const TrainConfig& config) {
  auto options = [&](double weight_decay) {
    return std::make_unique<torch::optim::AdamWOptions>(
        torch::optim::AdamWOptions(config.lr)
            .betas({config.adam_beta1, config.adam_beta2})
            .eps(config.adam_eps)
            .weight_decay(weight_decay));
  };
  std::vector<torch::optim::OptimizerParamGroup> groups;
  if (!decay.empty()) groups.emplace_back(decay, options(config.weight_decay));
  if (!no_decay.empty()) groups.emplace_back(no_decay, options(0.0));
  return std::make_unique<torch::optim::AdamW>(std::move(groups),
                                               torch::optim::AdamWOptions(config.lr));
}

int64_t optimizer_state_bytes(const torch::optim::Optimizer& optimizer) {
  int64_t bytes = 0;
  auto add = [&](const at::Tensor& tensor) {
    if (tensor.defined()) bytes += tensor.numel() * int64_t(tensor.element_size());
  };
  for (const auto& [key, state] : optimizer.state()) {
    if (const auto* adamw = dynamic_cast<const torch::optim::AdamWParamState*>(state.get())) {
      add(adamw->exp_avg());
      add(adamw->exp_avg_sq());
      add(adamw->max_exp_avg_sq());
    }
  }
  return bytes;
}

TrainResult run_training(const Config& config, const TrainOptions& options) {
  const std::unique_ptr<TrainingRun> run = setup_training(config, options);
  return run_step_loop(*run);
}

}  // namespace omnirm::train
