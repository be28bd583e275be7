// Implementation of model/activation_checkpoint.h.
#include "omnirm/model/activation_checkpoint.h"

#include <ATen/ATen.h>
#include <torch/autograd.h>

#include "omnirm/ops/autocast.h"

namespace omnirm::model {

namespace {

// What the backward pass needs besides the saved input: the block and the autocast state.
struct BlockCapsule : torch::CustomClassHolder {
  BlockFunction block;
  ops::AutocastState autocast;
};

class CheckpointedBlock : public torch::autograd::Function<CheckpointedBlock> {
 public:
  // hidden: [..., D] → block(hidden), computed without recording a graph.
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, const at::Tensor& hidden,
                            c10::intrusive_ptr<BlockCapsule> capsule) {
    ctx->save_for_backward({hidden});
    at::Tensor out = capsule->block(hidden);
    ctx->saved_data["capsule"] = c10::IValue::make_capsule(std::move(capsule));
    return out;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto capsule =
        c10::static_intrusive_pointer_cast<BlockCapsule>(ctx->saved_data["capsule"].toCapsule());
    const at::Tensor input = ctx->get_saved_variables()[0].detach().requires_grad_(true);
    at::Tensor out;
    {
      at::AutoGradMode grad_on(true);
      ops::AutocastScope autocast(capsule->autocast);
      out = capsule->block(input);
    }
    torch::autograd::backward({out}, {grad_outputs[0]});
    return {input.grad(), at::Tensor()};
  }
};

}  // namespace

bool any_trainable(const torch::nn::Module& module) {
  for (const at::Tensor& p : module.parameters()) {
    if (p.requires_grad()) return true;
  }
  return false;
}

at::Tensor run_block(const BlockFunction& block, const at::Tensor& hidden, bool checkpointed,
                     bool block_has_trainable) {
  if (!checkpointed || !at::GradMode::is_enabled()) return block(hidden);
  at::Tensor input = hidden;
  if (!input.requires_grad()) {
    if (!block_has_trainable) return block(hidden);
    input = hidden.detach().requires_grad_(true);
  }
  auto capsule = c10::make_intrusive<BlockCapsule>();
  capsule->block = block;
  capsule->autocast = ops::current_autocast_state();
  return CheckpointedBlock::apply(input, std::move(capsule));
}

}  // namespace omnirm::model
