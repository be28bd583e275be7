// Implementation of ops/bt_loss.h with plain ATen ops (autograd supplies the gradients).
#include "omnirm/ops/bt_loss.h"

#include <ATen/ATen.h>

namespace omnirm::ops {

at::Tensor bt_loss(const at::Tensor& reward_chosen, const at::Tensor& reward_rejected,
                   const at::Tensor& margin, double centering) {
  TORCH_CHECK(reward_chosen.dim() == 1, "bt_loss: reward_chosen must be [B], got ",
              reward_chosen.sizes());
  TORCH_CHECK(reward_chosen.sizes() == reward_rejected.sizes(),
              "bt_loss: reward_rejected must match reward_chosen ", reward_chosen.sizes(), ", got ",
              reward_rejected.sizes());
  TORCH_CHECK(reward_chosen.numel() > 0, "bt_loss: empty batch");
  at::Tensor gap = reward_chosen - reward_rejected;
  if (margin.defined()) {
    TORCH_CHECK(margin.sizes() == reward_chosen.sizes(), "bt_loss: margin must be [B], got ",
                margin.sizes());
    gap = gap - margin.to(gap.scalar_type());
  }
  at::Tensor loss = -at::log_sigmoid(gap).mean();
  if (centering != 0.0) {
    loss = loss + centering * (reward_chosen + reward_rejected).pow(2).mean();
  }
  return loss;
}

}  // namespace omnirm::ops
