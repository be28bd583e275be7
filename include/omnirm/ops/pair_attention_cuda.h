// The flash-style CUDA pair-attention kernels (kernels/pair_attention.h) as a differentiable
// op: the same problem as ops::attention_reference (packed rows, pair-prefix segment rule,
// grouped-query attention, scale 1 / sqrt(d)), gradients to query, key and value. Available
// only where omnirm is built with CUDA (OMNIRM_WITH_CUDA); ops::pair_attention's `cuda`
// backend dispatches here when pair_attention_cuda_supports() holds and to sdpa otherwise.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

namespace omnirm::ops::cuda {

// True when the kernels take these inputs: query [N, Hq, d], key and value [N, Hkv, d], all
// CUDA tensors of one device and one dtype, bf16 or fp16, d in {64, 128}, Hq % Hkv == 0.
bool pair_attention_cuda_supports(const at::Tensor& query, const at::Tensor& key,
                                  const at::Tensor& value);

// query [N, Hq, d], key/value [N, Hkv, d] (see pair_attention_cuda_supports); row_offsets
// [rows + 1] int64 (cu_seqlens, 0 ... N) and segments [N] int8 on the same device;
// max_row_length = the longest row (must not be smaller, or rows are cut short).
// → [N, Hq, d] in the input dtype. Non-contiguous inputs are copied first. Runs on the current
// CUDA stream; nothing synchronises.
at::Tensor pair_attention_cuda(const at::Tensor& query, const at::Tensor& key,
                               const at::Tensor& value, const at::Tensor& row_offsets,
                               const at::Tensor& segments, int64_t max_row_length);

}  // namespace omnirm::ops::cuda
