// Fused Bradley–Terry head: gathers the last-token hidden state of each chosen and rejected
// response, applies the scalar value head (w, b) and computes the pairwise loss, forward and
// backward. Torch-free: plain pointers in one parameter struct, work enqueued on the given
// stream, failures returned as cudaError_t (launch errors only; nothing synchronises).
//
// Math (all accumulation in fp32, B = num_pairs, lambda = centering):
//   r_c[i] = dot(H[chosen_index[i]], w) + b          r_r[i] likewise with rejected_index
//   z[i]   = r_c[i] - r_r[i] - margin[i]
//   loss   = mean_i softplus(-z[i]) + lambda * mean_i (r_c[i] + r_r[i])^2
// Backward, with d = dloss / B and g[i] = -sigmoid(-z[i]):
//   dr_c[i] = d * (g[i] + 2 lambda (r_c[i] + r_r[i]))
//   dr_r[i] = d * (-g[i] + 2 lambda (r_c[i] + r_r[i]))
//   dH[chosen_index[i]] += dr_c[i] * w,  dH[rejected_index[i]] += dr_r[i] * w
//   dw = sum_i dr_c[i] H[chosen_index[i]] + dr_r[i] H[rejected_index[i]],  db = sum_i dr_c + dr_r
// softplus and sigmoid are evaluated in forms that stay finite for |z| of 1e4 and beyond.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

// Element type of the hidden states (and of their gradient).
enum class BtHeadLossDtype : int32_t { kFloat32 = 0, kBFloat16 = 1, kFloat16 = 2 };

// Every pointer is device memory. Sizes: N = num_tokens, D = hidden_size, B = num_pairs.
struct BtHeadLossParams {
  // Inputs used by forward and backward.
  const void* hidden = nullptr;  // [N, D] row-major, contiguous, hidden_dtype
  BtHeadLossDtype hidden_dtype = BtHeadLossDtype::kFloat32;
  int64_t num_tokens = 0;                   // N
  int64_t hidden_size = 0;                  // D
  const int64_t* chosen_index = nullptr;    // [B] rows of hidden; outside [0, N) gives NaN
  const int64_t* rejected_index = nullptr;  // [B] rows of hidden; outside [0, N) gives NaN
  int64_t num_pairs = 0;                    // B (>= 1)
  const float* head_weight = nullptr;       // [D] fp32
  const float* head_bias = nullptr;         // [1] fp32, or nullptr for no bias
  const float* margin = nullptr;            // [B] fp32, or nullptr for zero margins
  float centering = 0.0f;                   // lambda

  // Forward outputs (overwritten). Backward reads the rewards back as inputs.
  float* reward_chosen = nullptr;    // [B] fp32
  float* reward_rejected = nullptr;  // [B] fp32
  float* loss = nullptr;             // [1] fp32

  // Backward input.
  const float* grad_loss = nullptr;  // [1] fp32: dloss
  // Backward scratch and outputs. The per-pair gradients and the bias gradient are
  // overwritten; grad_weight is overwritten unless nullptr (then skipped).
  float* grad_reward_chosen = nullptr;    // [B] fp32: dr_c
  float* grad_reward_rejected = nullptr;  // [B] fp32: dr_r
  float* grad_bias = nullptr;             // [1] fp32
  float* grad_weight = nullptr;           // [D] fp32, or nullptr
  // [N, D] in hidden_dtype, accumulated into with atomic adds (the caller zeroes it), or
  // nullptr to skip. Rows named by several indices receive the sum of their contributions;
  // with distinct indices each element gets exactly one add, so the result is dr * w rounded
  // once to hidden_dtype.
  void* grad_hidden = nullptr;

  cudaStream_t stream = nullptr;
};

// Writes reward_chosen, reward_rejected and loss. Returns cudaErrorInvalidValue for missing
// pointers or non-positive sizes, otherwise the launch status.
cudaError_t bt_head_loss_forward(const BtHeadLossParams& params);

// Reads the forward inputs, the rewards written by forward and grad_loss; writes
// grad_reward_chosen, grad_reward_rejected, grad_bias and, when given, grad_weight and
// grad_hidden. Returns cudaErrorInvalidValue for missing pointers or non-positive sizes,
// otherwise the launch status.
cudaError_t bt_head_loss_backward(const BtHeadLossParams& params);
