// The scalar value head and the Bradley–Terry loss over a batch's packed hidden states, in
// one call: the fused kernel installed for the tensors' device (ops/fused_kernels.h: the CUDA
// op of ops/bt_head_loss_cuda.h, one pass, no per-token outputs) once its self-test has passed
// (ops/kernel_self_test.h), the plain composition everywhere else —
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
// The head runs in its weight's dtype whatever autocast is on. `fused_required`
// (model.attention_backend: cuda): a failed self-test of the fused kernel throws
// KernelSelfTestFailure instead of falling back to the composition.
RewardHeadLoss reward_head_loss(const at::Tensor& hidden, const at::Tensor& chosen_index,
                                const at::Tensor& rejected_index, const at::Tensor& head_weight,
                                const at::Tensor& head_bias, const at::Tensor& margin,
                                double centering, bool fused_required = false);

// Whether reward_head_loss takes the fused kernel for these tensors: one is installed for
// their device, takes them, and passed its self-test (run here on first use).
bool reward_head_loss_is_fused(const at::Tensor& hidden, const at::Tensor& head_weight,
                               bool fused_required = false);

}  // namespace omnirm::ops
