// The fused CUDA Bradley–Terry head (kernels/bt_head_loss.cu) as a differentiable op:
// last-token gather + scalar value head + pairwise loss in one pass, gradients to the hidden
// states, the head weight and the head bias. Available only where omnirm is built with CUDA
// (OMNIRM_WITH_CUDA); the plain-ATen composition (index_select, linear, ops::bt_loss) is the
// reference it is tested against.
//   r_c = hidden[chosen_index] · w + b,  r_r = hidden[rejected_index] · w + b
//   loss = mean softplus(-(r_c - r_r - margin)) + centering * mean (r_c + r_r)^2
#pragma once

#include <ATen/Tensor.h>

namespace omnirm::ops::cuda {

struct BtHeadLossOutput {
  at::Tensor loss;             // 0-dim fp32, differentiable
  at::Tensor reward_chosen;    // [B] fp32, no gradient (for metrics)
  at::Tensor reward_rejected;  // [B] fp32, no gradient (for metrics)
};

// All tensors on one CUDA device, contiguous.
//   hidden          [N, D] fp32 | bf16 | fp16 (packed tokens of the batch)
//   chosen_index    [B] int64, rows of hidden holding each chosen response's last token
//   rejected_index  [B] int64, likewise for the rejected responses
//   head_weight     [1, D] or [D] fp32
//   head_bias       [1] fp32, or undefined for no bias
//   margin          [B] fp32, or undefined for zero margins
// Indices must lie in [0, N) (an index outside gives NaN rewards and loss; it is not checked
// on the host to avoid a device synchronisation). Every row is expected to be named at most
// once, as in omnirm's pair layouts; repeated rows still get the summed gradient, only with
// more rounding in hidden's dtype. Runs on the current CUDA stream.
BtHeadLossOutput bt_head_loss_cuda(const at::Tensor& hidden, const at::Tensor& chosen_index,
                                   const at::Tensor& rejected_index, const at::Tensor& head_weight,
                                   const at::Tensor& head_bias, const at::Tensor& margin,
                                   double centering);

}  // namespace omnirm::ops::cuda
