// Torch-facing layer of the fused CUDA Bradley–Terry head: checks the tensors, fills the
// kernel parameter struct, launches on the current CUDA stream and wraps forward and backward
// in an autograd Function. Nothing here synchronises with the device.
#include "omnirm/ops/bt_head_loss_cuda.h"

#include <ATen/ATen.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <torch/csrc/autograd/custom_function.h>

#include <cmath>

#include "bt_head_loss.h"

namespace omnirm::ops::cuda {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

BtHeadLossDtype kernel_dtype(at::ScalarType type) {
  switch (type) {
    case at::kFloat:
      return BtHeadLossDtype::kFloat32;
    case at::kBFloat16:
      return BtHeadLossDtype::kBFloat16;
    case at::kHalf:
      return BtHeadLossDtype::kFloat16;
    default:
      TORCH_CHECK(false, "bt_head_loss_cuda: hidden must be float32, bfloat16 or float16, got ",
                  type);
  }
}

void check_launch(cudaError_t status, const char* what) {
  TORCH_CHECK(status == cudaSuccess, "bt_head_loss_cuda: ", what,
              " failed: ", cudaGetErrorString(status));
}

// Common checks for an input that must live on hidden's device with a given dtype.
void check_on_device(const at::Tensor& tensor, const char* name, const at::Device& device,
                     at::ScalarType dtype) {
  TORCH_CHECK(tensor.device() == device, "bt_head_loss_cuda: ", name, " is on ", tensor.device(),
              ", expected ", device, " (the device of hidden)");
  TORCH_CHECK(tensor.scalar_type() == dtype, "bt_head_loss_cuda: ", name, " has dtype ",
              tensor.scalar_type(), ", expected ", dtype);
  TORCH_CHECK(tensor.is_contiguous(), "bt_head_loss_cuda: ", name,
              " must be contiguous; call .contiguous() first");
}

// Shapes and dtypes as documented at bt_head_loss_cuda in the header.
void check_inputs(const at::Tensor& hidden, const at::Tensor& chosen_index,
                  const at::Tensor& rejected_index, const at::Tensor& head_weight,
                  const at::Tensor& head_bias, const at::Tensor& margin, double centering) {
  TORCH_CHECK(hidden.defined() && hidden.is_cuda(),
              "bt_head_loss_cuda: hidden must be a CUDA tensor, got ",
              hidden.defined() ? hidden.device().str() : std::string("an undefined tensor"));
  TORCH_CHECK(hidden.dim() == 2 && hidden.size(0) > 0 && hidden.size(1) > 0,
              "bt_head_loss_cuda: hidden must be [N, D] with N, D > 0, got ", hidden.sizes());
  kernel_dtype(hidden.scalar_type());
  TORCH_CHECK(hidden.is_contiguous(),
              "bt_head_loss_cuda: hidden must be contiguous; call .contiguous() first");
  const at::Device device = hidden.device();
  const int64_t hidden_size = hidden.size(1);

  TORCH_CHECK(chosen_index.defined() && rejected_index.defined(),
              "bt_head_loss_cuda: chosen_index and rejected_index are required");
  check_on_device(chosen_index, "chosen_index", device, at::kLong);
  check_on_device(rejected_index, "rejected_index", device, at::kLong);
  TORCH_CHECK(chosen_index.dim() == 1 && chosen_index.size(0) > 0,
              "bt_head_loss_cuda: chosen_index must be [B] with B > 0, got ", chosen_index.sizes());
  TORCH_CHECK(rejected_index.sizes() == chosen_index.sizes(), "bt_head_loss_cuda: rejected_index ",
              rejected_index.sizes(), " must have the shape of chosen_index ",
              chosen_index.sizes());
  const int64_t num_pairs = chosen_index.size(0);

  TORCH_CHECK(head_weight.defined(), "bt_head_loss_cuda: head_weight is required");
  check_on_device(head_weight, "head_weight", device, at::kFloat);
  const bool weight_flat = head_weight.dim() == 1 && head_weight.size(0) == hidden_size;
  const bool weight_row =
      head_weight.dim() == 2 && head_weight.size(0) == 1 && head_weight.size(1) == hidden_size;
  TORCH_CHECK(weight_flat || weight_row, "bt_head_loss_cuda: head_weight must be [1, ", hidden_size,
              "] or [", hidden_size, "], got ", head_weight.sizes());

  if (head_bias.defined()) {
    check_on_device(head_bias, "head_bias", device, at::kFloat);
    TORCH_CHECK(head_bias.numel() == 1 && head_bias.dim() <= 1,
                "bt_head_loss_cuda: head_bias must be [1], got ", head_bias.sizes());
  }
  if (margin.defined()) {
    check_on_device(margin, "margin", device, at::kFloat);
    TORCH_CHECK(margin.dim() == 1 && margin.size(0) == num_pairs,
                "bt_head_loss_cuda: margin must be [", num_pairs, "], got ", margin.sizes());
  }
  TORCH_CHECK(std::isfinite(centering), "bt_head_loss_cuda: centering must be finite, got ",
              centering);
}

// The inputs shared by forward and backward; head_weight may be [1, D] or [D].
BtHeadLossParams make_params(const at::Tensor& hidden, const at::Tensor& chosen_index,
                             const at::Tensor& rejected_index, const at::Tensor& head_weight,
                             const at::Tensor& head_bias, const at::Tensor& margin,
                             double centering) {
  BtHeadLossParams params;
  params.hidden = hidden.data_ptr();
  params.hidden_dtype = kernel_dtype(hidden.scalar_type());
  params.num_tokens = hidden.size(0);
  params.hidden_size = hidden.size(1);
  params.chosen_index = chosen_index.data_ptr<int64_t>();
  params.rejected_index = rejected_index.data_ptr<int64_t>();
  params.num_pairs = chosen_index.size(0);
  params.head_weight = head_weight.data_ptr<float>();
  params.head_bias = head_bias.defined() ? head_bias.data_ptr<float>() : nullptr;
  params.margin = margin.defined() ? margin.data_ptr<float>() : nullptr;
  params.centering = static_cast<float>(centering);
  params.stream = at::cuda::getCurrentCUDAStream(hidden.device().index()).stream();
  return params;
}

// Inputs (in order): hidden, chosen_index, rejected_index, head_weight, head_bias, margin,
// centering. Outputs: loss (0-dim fp32), reward_chosen and reward_rejected ([B] fp32, not
// differentiable). Gradients go to hidden, head_weight and head_bias; none to margin.
class BtHeadLossFunction : public torch::autograd::Function<BtHeadLossFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& hidden,
                               const at::Tensor& chosen_index, const at::Tensor& rejected_index,
                               const at::Tensor& head_weight, const at::Tensor& head_bias,
                               const at::Tensor& margin, double centering) {
    const c10::cuda::CUDAGuard device_guard(hidden.device());
    const int64_t num_pairs = chosen_index.size(0);
    const auto float_options = hidden.options().dtype(at::kFloat);
    at::Tensor reward_chosen = at::empty({num_pairs}, float_options);
    at::Tensor reward_rejected = at::empty({num_pairs}, float_options);
    at::Tensor loss = at::empty({}, float_options);

    BtHeadLossParams params = make_params(hidden, chosen_index, rejected_index, head_weight,
                                          head_bias, margin, centering);
    params.reward_chosen = reward_chosen.data_ptr<float>();
    params.reward_rejected = reward_rejected.data_ptr<float>();
    params.loss = loss.data_ptr<float>();
    check_launch(bt_head_loss_forward(params), "forward launch");

    ctx->save_for_backward({hidden, chosen_index, rejected_index, head_weight, head_bias, margin,
                            reward_chosen, reward_rejected});
    ctx->saved_data["centering"] = centering;
    ctx->mark_non_differentiable({reward_chosen, reward_rejected});
    return {loss, reward_chosen, reward_rejected};
  }

  // grad_outputs[0]: dloss, 0-dim. The rewards carry no gradient, so their entries are unused.
  static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor& hidden = saved[0];
    const at::Tensor& chosen_index = saved[1];
    const at::Tensor& rejected_index = saved[2];
    const at::Tensor& head_weight = saved[3];
    const at::Tensor& head_bias = saved[4];
    const at::Tensor& margin = saved[5];
    const at::Tensor& reward_chosen = saved[6];
    const at::Tensor& reward_rejected = saved[7];
    const double centering = ctx->saved_data["centering"].toDouble();

    const c10::cuda::CUDAGuard device_guard(hidden.device());
    const at::Tensor grad_loss =
        grad_outputs[0].to(hidden.device(), at::kFloat).reshape({1}).contiguous();
    const bool want_hidden = ctx->needs_input_grad(0);
    const bool want_weight = ctx->needs_input_grad(3);
    const bool want_bias = head_bias.defined() && ctx->needs_input_grad(4);

    const int64_t num_pairs = chosen_index.size(0);
    const auto float_options = hidden.options().dtype(at::kFloat);
    at::Tensor grad_reward_chosen = at::empty({num_pairs}, float_options);
    at::Tensor grad_reward_rejected = at::empty({num_pairs}, float_options);
    at::Tensor grad_bias = at::empty({1}, float_options);
    at::Tensor grad_weight =
        want_weight ? at::empty({hidden.size(1)}, float_options) : at::Tensor();
    // The kernel accumulates into grad_hidden, so it starts from zeros.
    at::Tensor grad_hidden = want_hidden ? at::zeros_like(hidden) : at::Tensor();

    BtHeadLossParams params = make_params(hidden, chosen_index, rejected_index, head_weight,
                                          head_bias, margin, centering);
    params.reward_chosen = reward_chosen.data_ptr<float>();
    params.reward_rejected = reward_rejected.data_ptr<float>();
    params.grad_loss = grad_loss.data_ptr<float>();
    params.grad_reward_chosen = grad_reward_chosen.data_ptr<float>();
    params.grad_reward_rejected = grad_reward_rejected.data_ptr<float>();
    params.grad_bias = grad_bias.data_ptr<float>();
    params.grad_weight = want_weight ? grad_weight.data_ptr<float>() : nullptr;
    params.grad_hidden = want_hidden ? grad_hidden.data_ptr() : nullptr;
    check_launch(bt_head_loss_backward(params), "backward launch");

    return {grad_hidden,
            at::Tensor(),
            at::Tensor(),
            want_weight ? grad_weight.view(head_weight.sizes()) : at::Tensor(),
            want_bias ? grad_bias.view(head_bias.sizes()) : at::Tensor(),
            at::Tensor(),
            at::Tensor()};
  }
};

}  // namespace

BtHeadLossOutput bt_head_loss_cuda(const at::Tensor& hidden, const at::Tensor& chosen_index,
                                   const at::Tensor& rejected_index, const at::Tensor& head_weight,
                                   const at::Tensor& head_bias, const at::Tensor& margin,
                                   double centering) {
  check_inputs(hidden, chosen_index, rejected_index, head_weight, head_bias, margin, centering);
  const variable_list outputs = BtHeadLossFunction::apply(
      hidden, chosen_index, rejected_index, head_weight, head_bias, margin, centering);
  return {outputs[0], outputs[1], outputs[2]};
}

}  // namespace omnirm::ops::cuda
