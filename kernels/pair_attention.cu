// Entry points of pair attention (contract in pair_attention.h): parameter checks, the small
// kernels around the main ones, and the dispatch on dtype and head dim.
//
//   summary_kernel      one thread per (row, 64-token tile): OR of the tile's segment bits
//   output_dot_kernel   one warp per (token, query head): D = dO . O in fp32
//   grad_query_kernel   elementwise: dQ = scale * grad_query_accum, rounded to the input type
// (in pair_attention_aux.cuh)
// Forward:  summary → forward kernel.
// Backward: zero grad_query_accum → summary → D → backward kernel → dQ.
#include "pair_attention.h"

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cmath>

#include "pair_attention_aux.cuh"
#include "pair_attention_launch.h"
#include "pair_attention_tiles.h"

namespace pair_attention {
namespace {

constexpr int kSummaryThreads = 256;
constexpr int kDotThreads = 256;  // 8 warps, one (token, head) each per pass
constexpr int kConvertThreads = 256;

// Enough blocks to fill a large GPU, at most what the work needs.
unsigned int grid_for(int64_t work_items, int items_per_block) {
  const int64_t blocks = (work_items + items_per_block - 1) / items_per_block;
  return static_cast<unsigned int>(blocks < 8192 ? (blocks > 0 ? blocks : 1) : 8192);
}

cudaError_t launch_summary(const PairAttentionParams& params) {
  const int entries = static_cast<int>(summary_tiles_per_row(params.max_row_length));
  const int64_t total = static_cast<int64_t>(params.num_rows) * entries;
  const auto blocks = static_cast<unsigned int>((total + kSummaryThreads - 1) / kSummaryThreads);
  summary_kernel<<<blocks, kSummaryThreads, 0, params.stream>>>(
      params.row_offsets, params.segments, params.num_rows, entries, params.tile_summary);
  return cudaGetLastError();
}

template <typename T>
cudaError_t run_forward(const PairAttentionParams& params) {
  cudaError_t status = launch_summary(params);
  if (status != cudaSuccess) {
    return status;
  }
  return params.head_dim == 64 ? launch_forward<T, 64>(params) : launch_forward<T, 128>(params);
}

template <typename T>
cudaError_t run_backward(const PairAttentionParams& params) {
  const int64_t q_elements = params.num_tokens * params.num_heads * params.head_dim;
  cudaError_t status =
      cudaMemsetAsync(params.grad_query_accum, 0, q_elements * sizeof(float), params.stream);
  if (status != cudaSuccess) {
    return status;
  }
  status = launch_summary(params);
  if (status != cudaSuccess) {
    return status;
  }
  const int64_t pairs = params.num_tokens * params.num_heads;
  output_dot_kernel<T><<<grid_for(pairs, kDotThreads / 32), kDotThreads, 0, params.stream>>>(
      static_cast<const T*>(params.output), static_cast<const T*>(params.grad_output),
      params.num_tokens, params.num_heads, params.head_dim, params.grad_output_dot);
  status = cudaGetLastError();
  if (status != cudaSuccess) {
    return status;
  }
  status = params.head_dim == 64 ? launch_backward<T, 64>(params) : launch_backward<T, 128>(params);
  if (status != cudaSuccess) {
    return status;
  }
  grad_query_kernel<T>
      <<<grid_for(q_elements, kConvertThreads), kConvertThreads, 0, params.stream>>>(
          params.grad_query_accum, q_elements, params.softmax_scale,
          static_cast<T*>(params.grad_query));
  return cudaGetLastError();
}

bool aligned16(const void* pointer) { return reinterpret_cast<uintptr_t>(pointer) % 16 == 0; }

}  // namespace
}  // namespace pair_attention

int64_t pair_attention_summary_entries(int64_t max_row_length) {
  return pair_attention::summary_tiles_per_row(max_row_length);
}

const char* pair_attention_params_problem(const PairAttentionParams& params, bool backward) {
  if (params.num_tokens <= 0) {
    return "num_tokens must be positive";
  }
  if (params.num_rows <= 0 || params.num_rows > 65535) {
    return "num_rows must be in [1, 65535]";
  }
  if (params.max_row_length <= 0 || params.max_row_length > params.num_tokens) {
    return "max_row_length must be in [1, num_tokens]";
  }
  if (params.num_heads <= 0 || params.num_kv_heads <= 0 || params.num_heads > 65535) {
    return "num_heads must be in [1, 65535] and num_kv_heads positive";
  }
  if (params.num_heads % params.num_kv_heads != 0) {
    return "num_heads must be a multiple of num_kv_heads";
  }
  if (params.head_dim != 64 && params.head_dim != 128) {
    return "head_dim must be 64 or 128";
  }
  if (!(params.softmax_scale > 0.0f) || !std::isfinite(params.softmax_scale)) {
    return "softmax_scale must be positive and finite";
  }
  if (params.dtype != PairAttentionDtype::kBFloat16 &&
      params.dtype != PairAttentionDtype::kFloat16) {
    return "dtype must be bfloat16 or float16";
  }
  if (params.row_offsets == nullptr || params.segments == nullptr ||
      params.tile_summary == nullptr) {
    return "row_offsets, segments and tile_summary are required";
  }
  if (params.query == nullptr || params.key == nullptr || params.value == nullptr ||
      params.output == nullptr || params.logsumexp == nullptr) {
    return "query, key, value, output and logsumexp are required";
  }
  if (!pair_attention::aligned16(params.query) || !pair_attention::aligned16(params.key) ||
      !pair_attention::aligned16(params.value) || !pair_attention::aligned16(params.output)) {
    return "query, key, value and output must be 16-byte aligned";
  }
  if (backward) {
    if (params.grad_output == nullptr || params.grad_output_dot == nullptr ||
        params.grad_query_accum == nullptr || params.grad_query == nullptr ||
        params.grad_key == nullptr || params.grad_value == nullptr) {
      return "backward needs grad_output, grad_output_dot, grad_query_accum, grad_query, "
             "grad_key and grad_value";
    }
    if (!pair_attention::aligned16(params.grad_output) ||
        !pair_attention::aligned16(params.grad_key) ||
        !pair_attention::aligned16(params.grad_value)) {
      return "grad_output, grad_key and grad_value must be 16-byte aligned";
    }
  }
  return nullptr;
}

cudaError_t pair_attention_forward(const PairAttentionParams& params) {
  if (pair_attention_params_problem(params, false) != nullptr) {
    return cudaErrorInvalidValue;
  }
  return params.dtype == PairAttentionDtype::kBFloat16
             ? pair_attention::run_forward<__nv_bfloat16>(params)
             : pair_attention::run_forward<__half>(params);
}

cudaError_t pair_attention_backward(const PairAttentionParams& params) {
  if (pair_attention_params_problem(params, true) != nullptr) {
    return cudaErrorInvalidValue;
  }
  return params.dtype == PairAttentionDtype::kBFloat16
             ? pair_attention::run_backward<__nv_bfloat16>(params)
             : pair_attention::run_backward<__half>(params);
}
