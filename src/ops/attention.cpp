// The attention backends of ops/attention.h that run on any device, and the dispatcher (which
// sends the `cuda` and `automatic` backends to the installed fused kernels, ops/fused_kernels.h,
// once their self-test has passed).
#include "omnirm/ops/attention.h"

#include <ATen/ATen.h>

#include <fmt/format.h>

#include <cmath>

#include "omnirm/core/error.h"
#include "omnirm/ops/fused_kernels.h"
#include "omnirm/ops/kernel_self_test.h"

namespace omnirm::ops {

namespace {

void check_shapes(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                  const AttentionLayout& layout) {
  TORCH_CHECK(query.dim() == 3 && key.dim() == 3 && value.dim() == 3,
              "attention: query/key/value must be [N, H, d]");
  TORCH_CHECK(query.size(0) == layout.tokens && key.size(0) == layout.tokens &&
                  value.size(0) == layout.tokens,
              "attention: ", layout.tokens, " tokens in the layout, query has ", query.size(0));
  TORCH_CHECK(key.sizes() == value.sizes(), "attention: key and value shapes differ");
  TORCH_CHECK(query.size(2) == key.size(2), "attention: head dims differ");
  TORCH_CHECK(query.size(1) % key.size(1) == 0, "attention: ", query.size(1),
              " query heads are not a multiple of ", key.size(1), " key/value heads");
}

// [N, H, d] → [rows, H, Lmax, d], padding rows with zeros.
at::Tensor to_padded(const at::Tensor& x, const AttentionLayout& layout) {
  at::Tensor with_zero_row = at::cat({x, at::zeros({1, x.size(1), x.size(2)}, x.options())});
  return with_zero_row.index_select(0, layout.pad_gather)
      .view({layout.rows, layout.max_row_length, x.size(1), x.size(2)})
      .transpose(1, 2);
}

// [rows, H, Lmax, d] → [N, H, d].
at::Tensor from_padded(const at::Tensor& x, const AttentionLayout& layout) {
  return x.transpose(1, 2)
      .reshape({layout.rows * layout.max_row_length, x.size(1), x.size(3)})
      .index_select(0, layout.unpad_index);
}

}  // namespace

AttentionBackend resolve_attention_backend(const std::string& name, c10::DeviceType device_type) {
  if (name == "reference") return AttentionBackend::reference;
  if (name == "sdpa") return AttentionBackend::sdpa;
  if (name == "cuda" || name == "auto") {
    const bool installed = fused_attention_kernel(device_type) != nullptr;
    if (name == "auto") return installed ? AttentionBackend::automatic : AttentionBackend::sdpa;
    if (installed) return AttentionBackend::cuda;
    throw UserError(fmt::format(
        "model.attention_backend: 'cuda', but this build has no fused attention kernels for {} "
        "tensors (they need a CUDA build and train.device cuda); use 'auto', 'sdpa' or "
        "'reference'",
        c10::DeviceTypeName(device_type, /*lower_case=*/true)));
  }
  throw UserError("model.attention_backend: unknown backend '" + name +
                  "'; use reference, sdpa, cuda or auto");
}

at::Tensor attention_reference(const at::Tensor& query, const at::Tensor& key,
                               const at::Tensor& value, const AttentionLayout& layout) {
  check_shapes(query, key, value, layout);
  const int64_t groups = query.size(1) / key.size(1);
  const double scale = 1.0 / std::sqrt(static_cast<double>(query.size(2)));
  at::Tensor q = to_padded(query, layout);
  at::Tensor k = to_padded(key, layout).repeat_interleave(groups, 1);
  at::Tensor v = to_padded(value, layout).repeat_interleave(groups, 1);
  // Scores and softmax in fp32 for fp32/bf16/fp16 inputs, in fp64 for fp64 inputs.
  const at::ScalarType compute = query.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  at::Tensor scores = at::matmul(q.to(compute), k.to(compute).transpose(-2, -1)) * scale;
  scores =
      scores.masked_fill(layout.allowed.logical_not(), -std::numeric_limits<float>::infinity());
  at::Tensor probabilities = at::softmax(scores, -1);
  at::Tensor out = at::matmul(probabilities, v.to(compute)).to(query.scalar_type());
  return from_padded(out, layout);
}

at::Tensor attention_sdpa(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                          const AttentionLayout& layout) {
  check_shapes(query, key, value, layout);
  at::Tensor out = at::scaled_dot_product_attention(
      to_padded(query, layout), to_padded(key, layout), to_padded(value, layout), layout.allowed,
      /*dropout_p=*/0.0, /*is_causal=*/false, /*scale=*/std::nullopt, /*enable_gqa=*/true);
  return from_padded(out, layout);
}

at::Tensor pair_attention(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                          const AttentionLayout& layout, AttentionBackend backend) {
  switch (backend) {
    case AttentionBackend::reference:
      return attention_reference(query, key, value, layout);
    case AttentionBackend::sdpa:
      return attention_sdpa(query, key, value, layout);
    case AttentionBackend::cuda:
    case AttentionBackend::automatic: {
      const bool required = backend == AttentionBackend::cuda;
      const auto kernel = fused_attention_kernel(query.device().type());
      if (kernel != nullptr && kernel->supports(query, key, value)) {
        check_shapes(query, key, value, layout);
        if (attention_kernel_usable(*kernel, query.device(), query.scalar_type(), query.size(2),
                                    query.size(1), key.size(1), required)) {
          return kernel->run(query, key, value, layout.row_offsets, layout.segments,
                             layout.max_row_length);
        }
      } else if (required) {
        throw UserError(fmt::format(
            "model.attention_backend: 'cuda': the fused kernels do not serve device {}, dtype {}, "
            "head size {} (they take {}); use train.precision bf16 or fp16, or "
            "model.attention_backend auto",
            query.device().str(), c10::toString(query.scalar_type()),
            query.dim() == 3 ? query.size(2) : -1,
            kernel != nullptr ? kernel->serves : "nothing on this device"));
      }
      // Inputs the kernels do not take (CPU, fp32/fp64, other head dims), or a failed
      // self-test: the same problem through sdpa.
      return attention_sdpa(query, key, value, layout);
    }
  }
  TORCH_CHECK(false, "attention: unknown backend");
}

}  // namespace omnirm::ops
