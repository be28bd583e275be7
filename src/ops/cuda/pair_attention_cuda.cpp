// Torch-facing layer of the CUDA pair-attention kernels: checks the tensors, fills the kernel
// parameter struct, launches on the current CUDA stream and wraps forward and backward in an
// autograd Function. Nothing here synchronises with the device.
#include "omnirm/ops/pair_attention_cuda.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "pair_attention.h"

namespace omnirm::ops::cuda {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

PairAttentionDtype kernel_dtype(at::ScalarType type) {
  switch (type) {
    case at::kBFloat16:
      return PairAttentionDtype::kBFloat16;
    case at::kHalf:
      return PairAttentionDtype::kFloat16;
    default:
      TORCH_CHECK(false, "pair_attention_cuda: query must be bfloat16 or float16, got ", type);
  }
}

void check_launch(cudaError_t status, const char* what) {
  TORCH_CHECK(status == cudaSuccess, "pair_attention_cuda: ", what,
              " failed: ", cudaGetErrorString(status));
}

// Contiguous and 16-byte aligned (the kernels copy 16-byte chunks): a view that starts inside
// a vector is copied.
at::Tensor kernel_ready(const at::Tensor& tensor) {
  at::Tensor ready = tensor.contiguous();
  if (reinterpret_cast<uintptr_t>(ready.data_ptr()) % 16 != 0) {
    ready = ready.clone();
  }
  return ready;
}

// Shapes, dtypes and devices as documented at pair_attention_cuda in the header.
void check_inputs(const at::Tensor& query, const at::Tensor& key, const at::Tensor& value,
                  const at::Tensor& row_offsets, const at::Tensor& segments,
                  int64_t max_row_length) {
  TORCH_CHECK(pair_attention_cuda_supports(query, key, value),
              "pair_attention_cuda: needs CUDA tensors query [N, Hq, d], key/value [N, Hkv, d] "
              "of one dtype (bfloat16 or float16) with d 64 or 128 and Hq % Hkv == 0; got query ",
              query.sizes(), " ", query.scalar_type(), " on ", query.device(), ", key ",
              key.sizes(), " ", key.scalar_type());
  const at::Device device = query.device();
  const int64_t tokens = query.size(0);
  TORCH_CHECK(row_offsets.defined() && row_offsets.device() == device &&
                  row_offsets.scalar_type() == at::kLong && row_offsets.dim() == 1 &&
                  row_offsets.size(0) >= 2,
              "pair_attention_cuda: row_offsets must be [rows + 1] int64 on ", device);
  TORCH_CHECK(row_offsets.size(0) - 1 <= 65535, "pair_attention_cuda: ", row_offsets.size(0) - 1,
              " rows; at most 65535 per call");
  TORCH_CHECK(segments.defined() && segments.device() == device &&
                  segments.scalar_type() == at::kChar && segments.dim() == 1 &&
                  segments.size(0) == tokens,
              "pair_attention_cuda: segments must be [", tokens, "] int8 on ", device);
  TORCH_CHECK(max_row_length >= 1 && max_row_length <= tokens &&
                  max_row_length <= std::numeric_limits<int32_t>::max(),
              "pair_attention_cuda: max_row_length ", max_row_length, " must be in [1, ", tokens,
              "]");
  TORCH_CHECK(query.size(1) <= 65535, "pair_attention_cuda: ", query.size(1),
              " query heads; at most 65535");
}

PairAttentionParams make_params(const at::Tensor& query, const at::Tensor& key,
                                const at::Tensor& value, const at::Tensor& row_offsets,
                                const at::Tensor& segments, int64_t max_row_length,
                                const at::Tensor& tile_summary) {
  PairAttentionParams params;
  params.num_tokens = query.size(0);
  params.num_rows = static_cast<int32_t>(row_offsets.size(0) - 1);
  params.max_row_length = static_cast<int32_t>(max_row_length);
  params.num_heads = static_cast<int32_t>(query.size(1));
  params.num_kv_heads = static_cast<int32_t>(key.size(1));
  params.head_dim = static_cast<int32_t>(query.size(2));
  params.softmax_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(query.size(2))));
  params.dtype = kernel_dtype(query.scalar_type());
  params.row_offsets = row_offsets.data_ptr<int64_t>();
  params.segments = segments.data_ptr<int8_t>();
  params.tile_summary = tile_summary.data_ptr<uint8_t>();
  params.query = query.data_ptr();
  params.key = key.data_ptr();
  params.value = value.data_ptr();
  params.stream = at::cuda::getCurrentCUDAStream(query.device().index()).stream();
  return params;
}

at::Tensor empty_summary(const at::Tensor& row_offsets, int64_t max_row_length) {
  const int64_t rows = row_offsets.size(0) - 1;
  return at::empty({rows * pair_attention_summary_entries(max_row_length)},
                   row_offsets.options().dtype(at::kByte));
}

void check_params(const PairAttentionParams& params, bool backward) {
  const char* problem = pair_attention_params_problem(params, backward);
  TORCH_CHECK(problem == nullptr, "pair_attention_cuda: ", problem == nullptr ? "" : problem);
}

// Inputs (in order): query, key, value, row_offsets, segments, max_row_length. Output:
// [N, Hq, d]. Gradients go to query, key and value.
class PairAttentionFunction : public torch::autograd::Function<PairAttentionFunction> {
 public:
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& query, const at::Tensor& key,
                            const at::Tensor& value, const at::Tensor& row_offsets,
                            const at::Tensor& segments, int64_t max_row_length) {
    const c10::cuda::CUDAGuard device_guard(query.device());
    at::Tensor output = at::empty_like(query);
    at::Tensor logsumexp =
        at::empty({query.size(1), query.size(0)}, query.options().dtype(at::kFloat));
    const at::Tensor summary = empty_summary(row_offsets, max_row_length);

    PairAttentionParams params =
        make_params(query, key, value, row_offsets, segments, max_row_length, summary);
    params.output = output.data_ptr();
    params.logsumexp = logsumexp.data_ptr<float>();
    check_params(params, false);
    check_launch(pair_attention_forward(params), "forward launch");

    ctx->save_for_backward({query, key, value, output, logsumexp, row_offsets, segments});
    ctx->saved_data["max_row_length"] = max_row_length;
    return output;
  }

  // grad_outputs[0]: dO [N, Hq, d].
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor& query = saved[0];
    const at::Tensor& key = saved[1];
    const at::Tensor& value = saved[2];
    const at::Tensor& output = saved[3];
    const at::Tensor& logsumexp = saved[4];
    const at::Tensor& row_offsets = saved[5];
    const at::Tensor& segments = saved[6];
    const int64_t max_row_length = ctx->saved_data["max_row_length"].toInt();

    const c10::cuda::CUDAGuard device_guard(query.device());
    const at::Tensor grad_output = kernel_ready(grad_outputs[0].to(query.scalar_type()));
    const auto float_options = query.options().dtype(at::kFloat);
    at::Tensor grad_output_dot = at::empty({query.size(1), query.size(0)}, float_options);
    at::Tensor grad_query_accum = at::empty(query.sizes(), float_options);
    at::Tensor grad_query = at::empty_like(query);
    at::Tensor grad_key = at::empty_like(key);
    at::Tensor grad_value = at::empty_like(value);
    const at::Tensor summary = empty_summary(row_offsets, max_row_length);

    PairAttentionParams params =
        make_params(query, key, value, row_offsets, segments, max_row_length, summary);
    params.output = output.data_ptr();
    params.logsumexp = logsumexp.data_ptr<float>();
    params.grad_output = grad_output.data_ptr();
    params.grad_output_dot = grad_output_dot.data_ptr<float>();
    params.grad_query_accum = grad_query_accum.data_ptr<float>();
    params.grad_query = grad_query.data_ptr();
    params.grad_key = grad_key.data_ptr();
    params.grad_value = grad_value.data_ptr();
    check_params(params, true);
    check_launch(pair_attention_backward(params), "backward launch");

    return {grad_query, grad_key, grad_value, at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

bool pair_attention_cuda_supports(const at::Tensor& query, const at::Tensor& key,
                                  const at::Tensor& value) {
  if (!query.defined() || !key.defined() || !value.defined() || !query.is_cuda()) {
    return false;
  }
  const at::ScalarType dtype = query.scalar_type();
  if (dtype != at::kBFloat16 && dtype != at::kHalf) {
    return false;
  }
  if (key.scalar_type() != dtype || value.scalar_type() != dtype ||
      key.device() != query.device() || value.device() != query.device()) {
    return false;
  }
  if (query.dim() != 3 || key.dim() != 3 || key.sizes() != value.sizes()) {
    return false;
  }
  const int64_t head_dim = query.size(2);
  return query.size(0) > 0 && key.size(0) == query.size(0) && key.size(2) == head_dim &&
         (head_dim == 64 || head_dim == 128) && key.size(1) > 0 && query.size(1) % key.size(1) == 0;
}

at::Tensor pair_attention_cuda(const at::Tensor& query, const at::Tensor& key,
                               const at::Tensor& value, const at::Tensor& row_offsets,
                               const at::Tensor& segments, int64_t max_row_length) {
  check_inputs(query, key, value, row_offsets, segments, max_row_length);
  return PairAttentionFunction::apply(kernel_ready(query), kernel_ready(key), kernel_ready(value),
                                      row_offsets.contiguous(), segments.contiguous(),
                                      max_row_length);
}

}  // namespace omnirm::ops::cuda
