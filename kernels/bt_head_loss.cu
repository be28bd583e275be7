// Kernels of the fused Bradley–Terry head (see bt_head_loss.h for the math and the contract).
//
// Forward:  rewards_kernel      one block per pair: two dot products over D, block reductions
//           loss_kernel         one block: mean over pairs, fixed reduction order
// Backward: pair_grads_kernel   one block: dr_c, dr_r per pair and db
//           hidden_grad_kernel  one block per pair: dH rows += dr * w (atomic adds, H's dtype)
//           weight_grad_kernel  one thread per column of D: dw[k] summed over pairs in order
// Every reduction has a fixed order, so results are bitwise reproducible run to run, except
// grad_hidden where several indices name the same row (then the atomic adds may reorder).
// The kernels are in bt_head_loss_kernels.cuh; this file checks parameters and launches them.
#include "bt_head_loss.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <climits>

#include "bt_head_loss_kernels.cuh"

namespace {

using namespace bt_head_loss;

bool sizes_valid(const BtHeadLossParams& params) {
  return params.num_tokens > 0 && params.hidden_size > 0 && params.num_pairs > 0 &&
         params.num_pairs <= INT_MAX && params.hidden_size / kColumnThreads < INT_MAX;
}

bool forward_pointers_valid(const BtHeadLossParams& params) {
  return params.hidden != nullptr && params.chosen_index != nullptr &&
         params.rejected_index != nullptr && params.head_weight != nullptr &&
         params.reward_chosen != nullptr && params.reward_rejected != nullptr;
}

template <typename T>
void launch_rewards(const BtHeadLossParams& params) {
  rewards_kernel<T><<<static_cast<unsigned>(params.num_pairs), kPairThreads, 0, params.stream>>>(
      static_cast<const T*>(params.hidden), params.num_tokens, params.hidden_size,
      params.chosen_index, params.rejected_index, params.head_weight, params.head_bias,
      params.reward_chosen, params.reward_rejected);
}

template <typename T>
void launch_hidden_and_weight_grads(const BtHeadLossParams& params) {
  if (params.grad_hidden != nullptr) {
    hidden_grad_kernel<T>
        <<<static_cast<unsigned>(params.num_pairs), kPairThreads, 0, params.stream>>>(
            params.num_tokens, params.hidden_size, params.chosen_index, params.rejected_index,
            params.head_weight, params.grad_reward_chosen, params.grad_reward_rejected,
            static_cast<T*>(params.grad_hidden));
  }
  if (params.grad_weight != nullptr) {
    const auto blocks =
        static_cast<unsigned>((params.hidden_size + kColumnThreads - 1) / kColumnThreads);
    weight_grad_kernel<T><<<blocks, kColumnThreads, 0, params.stream>>>(
        static_cast<const T*>(params.hidden), params.num_tokens, params.hidden_size,
        params.chosen_index, params.rejected_index, params.num_pairs, params.grad_reward_chosen,
        params.grad_reward_rejected, params.grad_weight);
  }
}

}  // namespace

cudaError_t bt_head_loss_forward(const BtHeadLossParams& params) {
  if (!sizes_valid(params) || !forward_pointers_valid(params) || params.loss == nullptr) {
    return cudaErrorInvalidValue;
  }
  switch (params.hidden_dtype) {
    case BtHeadLossDtype::kFloat32:
      launch_rewards<float>(params);
      break;
    case BtHeadLossDtype::kBFloat16:
      launch_rewards<__nv_bfloat16>(params);
      break;
    case BtHeadLossDtype::kFloat16:
      launch_rewards<__half>(params);
      break;
    default:
      return cudaErrorInvalidValue;
  }
  loss_kernel<<<1, kReduceThreads, 0, params.stream>>>(params.reward_chosen, params.reward_rejected,
                                                       params.margin, params.num_pairs,
                                                       params.centering, params.loss);
  return cudaGetLastError();
}

cudaError_t bt_head_loss_backward(const BtHeadLossParams& params) {
  if (!sizes_valid(params) || !forward_pointers_valid(params) || params.grad_loss == nullptr ||
      params.grad_reward_chosen == nullptr || params.grad_reward_rejected == nullptr ||
      params.grad_bias == nullptr) {
    return cudaErrorInvalidValue;
  }
  if (params.hidden_dtype != BtHeadLossDtype::kFloat32 &&
      params.hidden_dtype != BtHeadLossDtype::kBFloat16 &&
      params.hidden_dtype != BtHeadLossDtype::kFloat16) {
    return cudaErrorInvalidValue;
  }
  pair_grads_kernel<<<1, kReduceThreads, 0, params.stream>>>(
      params.reward_chosen, params.reward_rejected, params.margin, params.num_pairs,
      params.centering, params.grad_loss, params.grad_reward_chosen, params.grad_reward_rejected,
      params.grad_bias);
  switch (params.hidden_dtype) {
    case BtHeadLossDtype::kFloat32:
      launch_hidden_and_weight_grads<float>(params);
      break;
    case BtHeadLossDtype::kBFloat16:
      launch_hidden_and_weight_grads<__nv_bfloat16>(params);
      break;
    case BtHeadLossDtype::kFloat16:
      launch_hidden_and_weight_grads<__half>(params);
      break;
  }
  return cudaGetLastError();
}
