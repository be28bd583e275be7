// The Bradley–Terry pairwise loss on scalar rewards, and the metrics read off it.
//   loss = mean_i -log σ(r_c[i] − r_r[i] − margin[i]) + λ · mean_i (r_c[i] + r_r[i])²
// Computed with log-sigmoid, so reward gaps of ±1e4 give finite values and gradients.
#pragma once

#include <ATen/Tensor.h>

namespace omnirm::ops {

// reward_chosen, reward_rejected: [B] floating; margin: [B] same dtype (or undefined = 0).
// Returns the scalar loss (0-dim, the rewards' dtype), differentiable in both rewards.
at::Tensor bt_loss(const at::Tensor& reward_chosen, const at::Tensor& reward_rejected,
                   const at::Tensor& margin, double centering);

}  // namespace omnirm::ops
