// Implementation of ops/reward_head.h: the dispatch between the fused CUDA op and the plain
// composition, which is the value head exactly as the model applies it followed by bt_loss.
#include "omnirm/ops/reward_head.h"

#include <ATen/ATen.h>

#include "omnirm/ops/autocast.h"
#include "omnirm/ops/bt_loss.h"

#ifdef OMNIRM_WITH_CUDA
#include "omnirm/ops/bt_head_loss_cuda.h"
#endif

namespace omnirm::ops {

bool reward_head_loss_is_fused(const at::Tensor& hidden, const at::Tensor& head_weight) {
#ifdef OMNIRM_WITH_CUDA
  const at::ScalarType dtype = hidden.scalar_type();
  return hidden.is_cuda() && head_weight.scalar_type() == at::kFloat &&
         (dtype == at::kFloat || dtype == at::kBFloat16 || dtype == at::kHalf);
#else
  (void)hidden;
  (void)head_weight;
  return false;
#endif
}

RewardHeadLoss reward_head_loss(const at::Tensor& hidden, const at::Tensor& chosen_index,
                                const at::Tensor& rejected_index, const at::Tensor& head_weight,
                                const at::Tensor& head_bias, const at::Tensor& margin,
                                double centering) {
  TORCH_CHECK(hidden.dim() == 2 && head_weight.numel() == hidden.size(1),
              "reward_head_loss: hidden must be [N, D] and head_weight [1, D], got ",
              hidden.sizes(), " and ", head_weight.sizes());
  TORCH_CHECK(chosen_index.dim() == 1 && chosen_index.sizes() == rejected_index.sizes(),
              "reward_head_loss: chosen_index and rejected_index must both be [B], got ",
              chosen_index.sizes(), " and ", rejected_index.sizes());
  // The head and the loss stay in the head's dtype inside a mixed-precision forward.
  AutocastScope head_precision(hidden.device().type(), Precision::fp32);
#ifdef OMNIRM_WITH_CUDA
  if (reward_head_loss_is_fused(hidden, head_weight)) {
    const cuda::BtHeadLossOutput out = cuda::bt_head_loss_cuda(
        hidden.contiguous(), chosen_index.contiguous(), rejected_index.contiguous(),
        head_weight.contiguous(), head_bias,
        margin.defined() ? margin.to(at::kFloat).contiguous() : margin, centering);
    return {out.loss, out.reward_chosen, out.reward_rejected};
  }
#endif
  const int64_t pairs = chosen_index.size(0);
  const at::Tensor last = at::cat({chosen_index, rejected_index});
  const at::Tensor h = hidden.index_select(0, last).to(head_weight.scalar_type());
  const at::Tensor rewards = at::linear(h, head_weight, head_bias).squeeze(-1);
  const at::Tensor chosen = rewards.narrow(0, 0, pairs);
  const at::Tensor rejected = rewards.narrow(0, pairs, pairs);
  return {bt_loss(chosen, rejected, margin, centering), chosen.detach(), rejected.detach()};
}

}  // namespace omnirm::ops
