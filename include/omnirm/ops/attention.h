// Attention over packed variable-length rows with the pair-prefix segment rule, behind one
// interface with backends:
//   reference — dense masked attention in plain ATen ops, any device: the ground truth;
//   sdpa      — the same padded problem through at::scaled_dot_product_attention;
//   cuda      — the fused kernels (ops/fused_kernels.h: the flash-style CUDA kernels of
//               kernels/), required: inputs they do not serve, or a failed self-test, stop the run;
//   automatic — the fused kernels where they serve the inputs and passed their self-test
//               (ops/kernel_self_test.h), sdpa everywhere else.
// Mask rule for query i and key j of the same row: j <= i and (segment[j] == prompt or
// segment[j] == segment[i]).
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/DeviceType.h>

#include <cstdint>
#include <string>
#include <vector>

namespace omnirm::ops {

enum class AttentionBackend { reference, sdpa, cuda, automatic };

// The model.attention_backend setting for tensors on `device_type`: "reference" | "sdpa" |
// "cuda" | "auto" (automatic where fused kernels are installed for the device type, else sdpa).
// "cuda" where no fused kernels are installed for the device type (a build without CUDA, CPU
// tensors) is a UserError naming model.attention_backend.
AttentionBackend resolve_attention_backend(const std::string& name, c10::DeviceType device_type);

// Per-batch layout, built once and shared by every layer.
struct AttentionLayout {
  int64_t tokens = 0;  // N
  int64_t rows = 0;
  int64_t max_row_length = 0;  // Lmax
  at::Tensor row_offsets;      // [rows + 1] int64 (cu_seqlens)
  at::Tensor segments;         // [N] int8
  // For the padded dense backends:
  at::Tensor pad_gather;   // [rows * Lmax] int64: token index, or N for padding
  at::Tensor unpad_index;  // [N] int64: position of each token in rows * Lmax
  at::Tensor allowed;      // [rows, 1, Lmax, Lmax] bool: query may attend key
};

// row_offsets: rows + 1 entries; segments: N entries. Tensors are placed on `device`.
AttentionLayout make_attention_layout(const std::vector<int64_t>& row_offsets,
                                      const std::vector<int8_t>& segments, at::Device device);

// Allowed (query, key) pairs of the mask rule over all rows: the attention work of a layout
// (forward 4 d, forward + backward 14 d FLOPs per pair and query head).
int64_t attention_allowed_pairs(const std::vector<int64_t>& row_offsets,
                                const std::vector<int8_t>& segments);

// query [N, Hq, d], key/value [N, Hkv, d] with Hq % Hkv == 0 → output [N, Hq, d].
// The cuda backend runs the fused kernels (the CUDA ones take bf16/fp16 inputs with d 64 or 128)
// and throws UserError naming the device, dtype and head size for inputs they do not serve, or
// KernelSelfTestFailure when their self-test failed; automatic runs sdpa in both cases.
at::Tensor pair_attention(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                          const AttentionLayout& layout, AttentionBackend backend);

// The backends, exposed for tests and benchmarks (same shapes as pair_attention).
at::Tensor attention_reference(const at::Tensor& query, const at::Tensor& key,
                               const at::Tensor& value, const AttentionLayout& layout);
at::Tensor attention_sdpa(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                          const AttentionLayout& layout);

}  // namespace omnirm::ops
