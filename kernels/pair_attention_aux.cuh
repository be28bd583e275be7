// The small kernels around the main pair-attention kernels, launched by pair_attention.cu:
// the per-tile segment summary, D = dO . O, and the conversion of the fp32 dQ accumulator.
#pragma once

#include <cstdint>

#include "pair_attention_mma.cuh"
#include "pair_attention_tiles.h"

namespace pair_attention {

// One thread per (row, entry) of summary [rows, entries], which it writes.
__global__ void summary_kernel(const int64_t* __restrict__ row_offsets,
                               const int8_t* __restrict__ segments, int rows, int entries,
                               uint8_t* __restrict__ summary) {
  const int64_t index = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (index >= static_cast<int64_t>(rows) * entries) {
    return;
  }
  const int64_t row = index / entries;
  const int64_t entry = index % entries;
  const int64_t start = row_offsets[row];
  const int64_t length = row_offsets[row + 1] - start;
  const int64_t begin = entry * kSummaryTile;
  const int64_t end = min(length, begin + kSummaryTile);
  uint8_t bits = 0;
  for (int64_t i = begin; i < end; ++i) {
    bits |= segment_bit(segments[start + i]);
  }
  summary[index] = bits;
}

// One warp per (token, head) pair p = token * heads + head of [N, H, d] tensors; dot [H, N].
template <typename T>
__global__ void output_dot_kernel(const T* __restrict__ output, const T* __restrict__ grad_output,
                                  int64_t tokens, int heads, int head_dim,
                                  float* __restrict__ dot) {
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / 32);
  const int64_t pairs = tokens * heads;
  for (int64_t pair = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) / 32;
       pair < pairs; pair += warps) {
    const T* o = output + pair * head_dim;
    const T* d_o = grad_output + pair * head_dim;
    float sum = 0.0f;
    for (int c = lane; c < head_dim; c += 32) {
      sum = fmaf(Element<T>::to_float(o[c]), Element<T>::to_float(d_o[c]), sum);
    }
    for (int offset = 16; offset > 0; offset /= 2) {
      sum += __shfl_xor_sync(0xffffffffu, sum, offset);
    }
    if (lane == 0) {
      const int64_t token = pair / heads;
      const int64_t head = pair % heads;
      dot[head * tokens + token] = sum;
    }
  }
}

template <typename T>
__global__ void grad_query_kernel(const float* __restrict__ accum, int64_t count, float scale,
                                  T* __restrict__ grad_query) {
  const int64_t stride = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < count;
       i += stride) {
    grad_query[i] = Element<T>::from_float(accum[i] * scale);
  }
}

}  // namespace pair_attention
