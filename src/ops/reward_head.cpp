// Implementation of ops/reward_head.h: the dispatch between the installed fused kernel and the
// plain composition, which is the value head exactly as the model applies it followed by bt_loss.
#include "omnirm/ops/reward_head.h"

#include <ATen/ATen.h>

#include "omnirm/ops/autocast.h"
#include "omnirm/ops/bt_loss.h"
#include "omnirm/ops/fused_kernels.h"
#include "omnirm/ops/kernel_self_test.h"

namespace omnirm::ops {

namespace {

// The fused kernel for these tensors when one is installed, takes them and passed its
// self-test; null otherwise.
std::shared_ptr<const FusedHeadLossKernel> usable_kernel(const at::Tensor& hidden,
                                                         const at::Tensor& head_weight,
                                                         bool fused_required) {
  auto kernel = fused_head_loss_kernel(hidden.device().type());
  if (kernel == nullptr || !kernel->supports(hidden, head_weight) ||
      !head_loss_kernel_usable(*kernel, hidden.device(), hidden.scalar_type(), hidden.size(1),
                               fused_required)) {
    return nullptr;
  }
  return kernel;
}

}  // namespace

bool reward_head_loss_is_fused(const at::Tensor& hidden, const at::Tensor& head_weight,
                               bool fused_required) {
  return usable_kernel(hidden, head_weight, fused_required) != nullptr;
}

RewardHeadLoss reward_head_loss(const at::Tensor& hidden, const at::Tensor& chosen_index,
                                const at::Tensor& rejected_index, const at::Tensor& head_weight,
                                const at::Tensor& head_bias, const at::Tensor& margin,
                                double centering, bool fused_required) {
  TORCH_CHECK(hidden.dim() == 2 && head_weight.numel() == hidden.size(1),
              "reward_head_loss: hidden must be [N, D] and head_weight [1, D], got ",
              hidden.sizes(), " and ", head_weight.sizes());
  TORCH_CHECK(chosen_index.dim() == 1 && chosen_index.sizes() == rejected_index.sizes(),
              "reward_head_loss: chosen_index and rejected_index must both be [B], got ",
              chosen_index.sizes(), " and ", rejected_index.sizes());
  // The head and the loss stay in the head's dtype inside a mixed-precision forward.
  AutocastScope head_precision(hidden.device().type(), Precision::fp32);
  if (const auto kernel = usable_kernel(hidden, head_weight, fused_required)) {
    return kernel->run(hidden.contiguous(), chosen_index.contiguous(), rejected_index.contiguous(),
                       head_weight.contiguous(), head_bias,
                       margin.defined() ? margin.to(at::kFloat).contiguous() : margin, centering);
  }
  const int64_t pairs = chosen_index.size(0);
  const at::Tensor last = at::cat({chosen_index, rejected_index});
  const at::Tensor h = hidden.index_select(0, last).to(head_weight.scalar_type());
  const at::Tensor rewards = at::linear(h, head_weight, head_bias).squeeze(-1);
  const at::Tensor chosen = rewards.narrow(0, 0, pairs);
  const at::Tensor rejected = rewards.narrow(0, pairs, pairs);
  return {bt_loss(chosen, rejected, margin, centering), chosen.detach(), rejected.detach()};
}

}  // namespace omnirm::ops
