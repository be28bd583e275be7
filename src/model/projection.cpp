// Implementation of model/projection.h.
#include "omnirm/model/projection.h"

#include <ATen/ATen.h>
#include <torch/nn/functional/dropout.h>
#include <torch/nn/init.h>

#include <cmath>

namespace omnirm::model {

ProjectionImpl::ProjectionImpl(int64_t in_features, int64_t out_features, bool bias)
    : in_features_(in_features), out_features_(out_features) {
  weight_ = register_parameter("weight", at::empty({out_features, in_features}));
  // The defaults of a torch Linear; initialize_weights() replaces them for a new model.
  torch::nn::init::kaiming_uniform_(weight_, std::sqrt(5.0));
  if (bias) {
    const double bound = 1.0 / std::sqrt(double(in_features));
    bias_ = register_parameter("bias", at::empty({out_features}));
    torch::nn::init::uniform_(bias_, -bound, bound);
  }
}

at::Tensor ProjectionImpl::forward(const at::Tensor& x) {
  at::Tensor y = at::linear(x, weight_, bias_);
  if (!has_adapter()) return y;
  at::Tensor input = x;
  if (dropout_ > 0.0) {
    input = torch::nn::functional::dropout(
        input, torch::nn::functional::DropoutFuncOptions().p(dropout_).training(is_training()));
  }
  return y + lora_b_->forward(lora_a_->forward(input)) * scaling_;
}

void ProjectionImpl::add_adapter(int64_t rank, double alpha, double dropout) {
  TORCH_CHECK(!has_adapter(), "projection already has an adapter");
  TORCH_CHECK(rank > 0, "adapter rank must be positive");
  scaling_ = alpha / double(rank);
  dropout_ = dropout;
  const auto options = weight_.options().requires_grad(false);
  lora_a_ = register_module(
      "lora_A", torch::nn::Linear(torch::nn::LinearOptions(in_features_, rank).bias(false)));
  lora_b_ = register_module(
      "lora_B", torch::nn::Linear(torch::nn::LinearOptions(rank, out_features_).bias(false)));
  lora_a_->to(options.device(), options.dtype().toScalarType());
  lora_b_->to(options.device(), options.dtype().toScalarType());
  torch::NoGradGuard no_grad;
  torch::nn::init::kaiming_uniform_(lora_a_->weight, std::sqrt(5.0));
  lora_b_->weight.zero_();
  weight_.set_requires_grad(false);
  if (bias_.defined()) bias_.set_requires_grad(false);
}

at::Tensor ProjectionImpl::adapter_delta() const {
  TORCH_CHECK(has_adapter(), "projection has no adapter");
  return at::matmul(lora_b_->weight, lora_a_->weight) * scaling_;
}

void ProjectionImpl::merge_adapter() {
  TORCH_CHECK(has_adapter(), "projection has no adapter to merge");
  {
    torch::NoGradGuard no_grad;
    weight_.add_(adapter_delta().to(weight_.scalar_type()));
  }
  unregister_module("lora_A");
  unregister_module("lora_B");
  lora_a_ = nullptr;
  lora_b_ = nullptr;
}

}  // namespace omnirm::model
