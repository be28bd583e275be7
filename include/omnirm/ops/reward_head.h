// The scalar value head and the Bradley–Terry loss over a batch's packed hidden states, in
// one call: the fused CUDA op (ops/bt_head_loss_cuda.h, one pass, no per-token outputs) on
// CUDA tensors where omnirm is built with CUDA, the plain composition everywhere else —
//   r = linear(hidden[index], w, b) in the head's dtype,  loss = ops::bt_loss(r_c, r_r, ...).
#pragma once

#include <ATen/Tensor.h>

namespace omnirm::ops {

struct RewardHeadLoss {
  at::Tensor loss;             // 0-dim, differentiable in hidden, head weight and bias
  at::Tensor reward_chosen;    // [B] in the head's dtype, detached (for metrics)
  at::Tensor reward_rejected;  // [B] likewise
};

//   hidden          [N, D] floating (packed tokens of the batch)
//   chosen_index    [B] int64: rows of hidden with each chosen response's last token
//   rejected_index  [B] int64: likewise for the rejected responses
//   head_weight     [1, D] (fp32 for the fused op; an fp64 head takes the composed path)
//   head_bias       [1] or undefined (no bias)
//   margin          [B] or undefined (zero margins)
// The head runs in its weight's dtype whatever autocast is on.
RewardHeadLoss reward_head_loss(const at::Tensor& hidden, const at::Tensor& chosen_index,
                                const at::Tensor& rejected_index, const at::Tensor& head_weight,
                                const at::Tensor& head_bias, const at::Tensor& margin,
                                double centering);

// Whether reward_head_loss takes the fused CUDA op for these tensors.
bool reward_head_loss_is_fused(const at::Tensor& hidden, const at::Tensor& head_weight);

}  // namespace omnirm::ops
