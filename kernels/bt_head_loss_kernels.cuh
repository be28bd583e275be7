// The kernels of the fused Bradley–Terry head (launched by bt_head_loss.cu, which describes
// them; math and contract in bt_head_loss.h), with the block shapes they are launched with.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <math_constants.h>

#include <cstdint>

namespace bt_head_loss {

constexpr int kPairThreads = 256;    // threads per pair block (dot products, dH rows)
constexpr int kReduceThreads = 256;  // threads of the single-block reductions over pairs
constexpr int kColumnThreads = 256;  // columns of D per block in the weight gradient

__device__ inline float to_float(float value) { return value; }
__device__ inline float to_float(__nv_bfloat16 value) { return __bfloat162float(value); }
__device__ inline float to_float(__half value) { return __half2float(value); }

__device__ inline void atomic_add_as(float* address, float value) { atomicAdd(address, value); }
__device__ inline void atomic_add_as(__nv_bfloat16* address, float value) {
  atomicAdd(address, __float2bfloat16(value));
}
__device__ inline void atomic_add_as(__half* address, float value) {
  atomicAdd(address, __float2half(value));
}

// log(1 + e^x) without overflow for large x or loss of the linear part for large -x.
__device__ inline float stable_softplus(float x) {
  return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
}

// 1 / (1 + e^-x); the exponential is only taken of non-positive arguments.
__device__ inline float stable_sigmoid(float x) {
  if (x >= 0.0f) {
    return 1.0f / (1.0f + expf(-x));
  }
  const float e = expf(x);
  return e / (1.0f + e);
}

// 2 lambda (r_c + r_r), exactly zero when lambda is zero (even for infinite rewards).
__device__ inline float centering_grad(float centering, float reward_chosen,
                                       float reward_rejected) {
  return centering != 0.0f ? 2.0f * centering * (reward_chosen + reward_rejected) : 0.0f;
}

__device__ inline bool row_in_range(int64_t row, int64_t num_rows) {
  return row >= 0 && row < num_rows;
}

// Sum of `value` over the block, valid in thread 0. blockDim.x must be a multiple of 32 and
// every thread of the block must call it. `scratch` is shared memory of 32 floats; it may be
// reused by the next call because the function ends with a barrier.
__device__ float block_sum(float value, float* scratch) {
  for (int offset = 16; offset > 0; offset /= 2) {
    value += __shfl_down_sync(0xffffffffu, value, offset);
  }
  const int lane = threadIdx.x % 32;
  const int warp = threadIdx.x / 32;
  if (lane == 0) {
    scratch[warp] = value;
  }
  __syncthreads();
  const int num_warps = blockDim.x / 32;
  value = lane < num_warps ? scratch[lane] : 0.0f;
  if (warp == 0) {
    for (int offset = 16; offset > 0; offset /= 2) {
      value += __shfl_down_sync(0xffffffffu, value, offset);
    }
  }
  __syncthreads();
  return value;
}

// Grid: one block per pair. hidden [N, D] T; indices [B]; head_weight [D]; head_bias [1] or
// null; rewards [B] written (NaN for an index outside [0, N)).
template <typename T>
__global__ void rewards_kernel(const T* __restrict__ hidden, int64_t num_tokens,
                               int64_t hidden_size, const int64_t* __restrict__ chosen_index,
                               const int64_t* __restrict__ rejected_index,
                               const float* __restrict__ head_weight,
                               const float* __restrict__ head_bias,
                               float* __restrict__ reward_chosen,
                               float* __restrict__ reward_rejected) {
  __shared__ float scratch[32];
  const int64_t pair = blockIdx.x;
  const int64_t chosen_row = chosen_index[pair];
  const int64_t rejected_row = rejected_index[pair];
  const bool chosen_valid = row_in_range(chosen_row, num_tokens);
  const bool rejected_valid = row_in_range(rejected_row, num_tokens);
  const T* chosen = hidden + (chosen_valid ? chosen_row : 0) * hidden_size;
  const T* rejected = hidden + (rejected_valid ? rejected_row : 0) * hidden_size;

  float chosen_dot = 0.0f;
  float rejected_dot = 0.0f;
  for (int64_t k = threadIdx.x; k < hidden_size; k += blockDim.x) {
    const float weight = head_weight[k];
    if (chosen_valid) {
      chosen_dot = fmaf(to_float(chosen[k]), weight, chosen_dot);
    }
    if (rejected_valid) {
      rejected_dot = fmaf(to_float(rejected[k]), weight, rejected_dot);
    }
  }
  chosen_dot = block_sum(chosen_dot, scratch);
  rejected_dot = block_sum(rejected_dot, scratch);

  if (threadIdx.x == 0) {
    const float bias = head_bias != nullptr ? *head_bias : 0.0f;
    reward_chosen[pair] = chosen_valid ? chosen_dot + bias : CUDART_NAN_F;
    reward_rejected[pair] = rejected_valid ? rejected_dot + bias : CUDART_NAN_F;
  }
}

// Grid: one block. rewards [B]; margin [B] or null; loss [1] written.
__global__ void loss_kernel(const float* __restrict__ reward_chosen,
                            const float* __restrict__ reward_rejected,
                            const float* __restrict__ margin, int64_t num_pairs, float centering,
                            float* __restrict__ loss) {
  __shared__ float scratch[32];
  float softplus_sum = 0.0f;
  float square_sum = 0.0f;
  for (int64_t i = threadIdx.x; i < num_pairs; i += blockDim.x) {
    const float margin_i = margin != nullptr ? margin[i] : 0.0f;
    const float gap = reward_chosen[i] - reward_rejected[i] - margin_i;
    softplus_sum += stable_softplus(-gap);
    const float reward_sum = reward_chosen[i] + reward_rejected[i];
    square_sum = fmaf(reward_sum, reward_sum, square_sum);
  }
  softplus_sum = block_sum(softplus_sum, scratch);
  square_sum = block_sum(square_sum, scratch);
  if (threadIdx.x == 0) {
    const float count = static_cast<float>(num_pairs);
    const float centering_term = centering != 0.0f ? centering * (square_sum / count) : 0.0f;
    *loss = softplus_sum / count + centering_term;
  }
}

// Grid: one block. rewards [B]; margin [B] or null; grad_loss [1]; per-pair gradients [B]
// and grad_bias [1] written.
__global__ void pair_grads_kernel(const float* __restrict__ reward_chosen,
                                  const float* __restrict__ reward_rejected,
                                  const float* __restrict__ margin, int64_t num_pairs,
                                  float centering, const float* __restrict__ grad_loss,
                                  float* __restrict__ grad_reward_chosen,
                                  float* __restrict__ grad_reward_rejected,
                                  float* __restrict__ grad_bias) {
  __shared__ float scratch[32];
  const float scale = *grad_loss / static_cast<float>(num_pairs);
  float bias_sum = 0.0f;
  for (int64_t i = threadIdx.x; i < num_pairs; i += blockDim.x) {
    const float margin_i = margin != nullptr ? margin[i] : 0.0f;
    const float gap = reward_chosen[i] - reward_rejected[i] - margin_i;
    const float gap_grad = -stable_sigmoid(-gap);  // d softplus(-gap) / d gap
    const float center = centering_grad(centering, reward_chosen[i], reward_rejected[i]);
    const float chosen_grad = scale * (gap_grad + center);
    const float rejected_grad = scale * (-gap_grad + center);
    grad_reward_chosen[i] = chosen_grad;
    grad_reward_rejected[i] = rejected_grad;
    bias_sum += chosen_grad + rejected_grad;
  }
  bias_sum = block_sum(bias_sum, scratch);
  if (threadIdx.x == 0) {
    *grad_bias = bias_sum;
  }
}

// Grid: one block per pair. grad_hidden [N, D] T accumulated into; rows outside [0, N) skipped.
template <typename T>
__global__ void hidden_grad_kernel(int64_t num_tokens, int64_t hidden_size,
                                   const int64_t* __restrict__ chosen_index,
                                   const int64_t* __restrict__ rejected_index,
                                   const float* __restrict__ head_weight,
                                   const float* __restrict__ grad_reward_chosen,
                                   const float* __restrict__ grad_reward_rejected,
                                   T* __restrict__ grad_hidden) {
  const int64_t pair = blockIdx.x;
  const int64_t chosen_row = chosen_index[pair];
  const int64_t rejected_row = rejected_index[pair];
  const float chosen_grad = grad_reward_chosen[pair];
  const float rejected_grad = grad_reward_rejected[pair];
  if (row_in_range(chosen_row, num_tokens)) {
    T* row = grad_hidden + chosen_row * hidden_size;
    for (int64_t k = threadIdx.x; k < hidden_size; k += blockDim.x) {
      atomic_add_as(row + k, chosen_grad * head_weight[k]);
    }
  }
  if (row_in_range(rejected_row, num_tokens)) {
    T* row = grad_hidden + rejected_row * hidden_size;
    for (int64_t k = threadIdx.x; k < hidden_size; k += blockDim.x) {
      atomic_add_as(row + k, rejected_grad * head_weight[k]);
    }
  }
}

// Grid: ceil(D / kColumnThreads) blocks, one thread per column k of D. Consecutive threads
// read consecutive elements of the same hidden row, so the loads coalesce.
template <typename T>
__global__ void weight_grad_kernel(const T* __restrict__ hidden, int64_t num_tokens,
                                   int64_t hidden_size, const int64_t* __restrict__ chosen_index,
                                   const int64_t* __restrict__ rejected_index, int64_t num_pairs,
                                   const float* __restrict__ grad_reward_chosen,
                                   const float* __restrict__ grad_reward_rejected,
                                   float* __restrict__ grad_weight) {
  const int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (k >= hidden_size) {
    return;
  }
  float sum = 0.0f;
  for (int64_t i = 0; i < num_pairs; ++i) {
    const int64_t chosen_row = chosen_index[i];
    const int64_t rejected_row = rejected_index[i];
    if (row_in_range(chosen_row, num_tokens)) {
      sum = fmaf(grad_reward_chosen[i], to_float(hidden[chosen_row * hidden_size + k]), sum);
    }
    if (row_in_range(rejected_row, num_tokens)) {
      sum = fmaf(grad_reward_rejected[i], to_float(hidden[rejected_row * hidden_size + k]), sum);
    }
  }
  grad_weight[k] = sum;
}

}  // namespace bt_head_loss
