// A hook around each decoder block of the backbone, for code that must act at block
// boundaries in both passes: ZeRO stage 3 gathers a block's parameters before it runs and
// frees them afterwards, in the forward pass and again in the backward pass. The backbone
// runs each block through run_hooked_block; without a hook it runs the block plainly.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <functional>

namespace omnirm::model {

class BlockHook {
 public:
  virtual ~BlockHook() = default;
  // Forward pass: around block `block`'s computation.
  virtual void forward_begin(int64_t block) = 0;
  virtual void forward_end(int64_t block) = 0;
  // Backward pass: before the block's gradients are computed (including the recomputation
  // of a checkpointed block), and after the gradient of its input has been.
  virtual void backward_begin(int64_t block) = 0;
  virtual void backward_end(int64_t block) = 0;
};

// Runs `run(hidden)` ([N, D] → [N, D]) as block `block`: forward_begin, run, forward_end.
// While gradients are recorded, the output carries backward_begin and the input
// backward_end (identity autograd functions), so they run when backward reaches the block.
// An input that needs no gradient (frozen embeddings) gets no backward_end call.
at::Tensor run_hooked_block(BlockHook& hook, int64_t block, const at::Tensor& hidden,
                            const std::function<at::Tensor(const at::Tensor&)>& run);

}  // namespace omnirm::model
