// Activation checkpointing of one transformer block: the forward pass runs the block without
// keeping its intermediate activations (only its input); the backward pass runs it again
// with gradients on and backpropagates through the recomputation. Parameter gradients are
// accumulated into .grad during that inner backward (the "reentrant" scheme), so a
// checkpointed model is trained with loss.backward(), not with torch::autograd::grad.
// The autocast state of the forward pass is re-entered for the recomputation.
#pragma once

#include <ATen/Tensor.h>
#include <torch/nn/module.h>

#include <cstdint>
#include <functional>

namespace omnirm::model {

// A block as a function of its hidden states: [..., D] → [..., D] (same shape).
using BlockFunction = std::function<at::Tensor(const at::Tensor&)>;

// Runs `block` on `hidden` checkpointed when `checkpointed` is true and gradients are being
// recorded, plainly otherwise. `block_has_trainable` says whether the block holds parameters
// that need gradients: then a `hidden` that needs none (e.g. frozen embeddings under LoRA)
// still gets a backward pass through the block.
at::Tensor run_block(const BlockFunction& block, const at::Tensor& hidden, bool checkpointed,
                     bool block_has_trainable);

// Whether any parameter of `module` needs a gradient.
bool any_trainable(const torch::nn::Module& module);

// Whether block `index` is checkpointed under train.activation_checkpointing = `every`
// (0: none; k: blocks 0, k, 2k, ...).
inline bool checkpoint_block(int64_t index, int64_t every) {
  return every > 0 && index % every == 0;
}

}  // namespace omnirm::model
