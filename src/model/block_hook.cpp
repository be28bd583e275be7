// Implementation of model/block_hook.h: two identity autograd functions whose backward calls
// the hook; the hook travels in the context as an address, so it must outlive the backward
// pass of every forward it took part in.
#include "omnirm/model/block_hook.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

namespace omnirm::model {

namespace {

enum class Boundary : int64_t { begin, end };

class HookOnBackward : public torch::autograd::Function<HookOnBackward> {
 public:
  // x: any tensor → x (an alias), which calls hook->backward_begin/end(block) in backward.
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& x,
                            int64_t hook, int64_t block, int64_t boundary) {
    ctx->saved_data["hook"] = hook;
    ctx->saved_data["block"] = block;
    ctx->saved_data["boundary"] = boundary;
    return x.view_as(x);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* hook = reinterpret_cast<BlockHook*>(ctx->saved_data["hook"].toInt());
    const int64_t block = ctx->saved_data["block"].toInt();
    if (static_cast<Boundary>(ctx->saved_data["boundary"].toInt()) == Boundary::begin) {
      hook->backward_begin(block);
    } else {
      hook->backward_end(block);
    }
    return {grads[0], at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

}  // namespace

at::Tensor run_hooked_block(BlockHook& hook, int64_t block, const at::Tensor& hidden,
                            const std::function<at::Tensor(const at::Tensor&)>& run) {
  const bool recording = at::GradMode::is_enabled();
  const auto address = reinterpret_cast<int64_t>(&hook);
  at::Tensor input = hidden;
  if (recording && input.requires_grad()) {
    input = HookOnBackward::apply(input, address, block, static_cast<int64_t>(Boundary::end));
  }
  hook.forward_begin(block);
  at::Tensor output = run(input);
  hook.forward_end(block);
  if (recording && output.requires_grad()) {
    output = HookOnBackward::apply(output, address, block, static_cast<int64_t>(Boundary::begin));
  }
  return output;
}

}  // namespace omnirm::model
