// The backbone's linear projections (q/k/v/o_proj, gate/up/down_proj): y = x Wᵀ + b, with an
// optional low-rank adapter (LoRA) beside the frozen weight: y += (alpha / r) · B(A(dropout(x))).
// Parameter names are those of a torch Linear ("weight", "bias") and, with an adapter, of
// PEFT ("lora_A.weight" [r, in], "lora_B.weight" [out, r]), so checkpoints without adapters
// are unchanged and adapters export under PEFT's names.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

namespace omnirm::model {

class ProjectionImpl : public torch::nn::Module {
 public:
  ProjectionImpl(int64_t in_features, int64_t out_features, bool bias);

  // x: [..., in] → [..., out]
  at::Tensor forward(const at::Tensor& x);

  // Adds a rank-`rank` adapter: A drawn like a Linear's default init (uniform), B zero, so the
  // output is unchanged until B trains. The projection's own weight and bias are frozen.
  void add_adapter(int64_t rank, double alpha, double dropout);
  bool has_adapter() const { return !lora_a_.is_empty(); }
  // weight += (alpha / r) · B A, then the adapter is removed (the weight keeps its
  // requires_grad setting).
  void merge_adapter();
  // (alpha / r) · B A: [out, in]; requires an adapter.
  at::Tensor adapter_delta() const;

  const at::Tensor& weight() const { return weight_; }

 private:
  int64_t in_features_, out_features_;
  at::Tensor weight_;  // [out, in]
  at::Tensor bias_;    // [out] or undefined
  torch::nn::Linear lora_a_{nullptr}, lora_b_{nullptr};
  double scaling_ = 0.0;
  double dropout_ = 0.0;
};
TORCH_MODULE(Projection);

}  // namespace omnirm::model
