// The fused kernels' host emulation (tests/kernels/emulation) as differentiable ops on CPU
// tensors, shaped like the CUDA ops of src/ops/cuda, and as implementations that can be
// installed for the CPU (ops/fused_kernels.h) so that dispatch, the self-test on first use and
// the fallback can be exercised without a GPU. Only where the emulation is built
// (OMNIRM_KERNEL_EMULATION).
#pragma once

#ifdef OMNIRM_KERNEL_EMULATION

#include <ATen/Tensor.h>

#include <cstdint>

#include "omnirm/ops/fused_kernels.h"

namespace omnirm::testing {

// query [N, Hq, d], key / value [N, Hkv, d] bf16 or fp16 on the CPU, row_offsets [rows + 1]
// int64, segments [N] int8 → [N, Hq, d], differentiable in query, key and value. `seed` != 0
// shuffles the thread schedule; `copy_at_issue` lands asynchronous copies at issue.
at::Tensor emulated_pair_attention(const at::Tensor& query, const at::Tensor& key,
                                   const at::Tensor& value, const at::Tensor& row_offsets,
                                   const at::Tensor& segments, int64_t max_row_length,
                                   uint64_t seed = 0, bool copy_at_issue = false);

// The contract of ops::cuda::bt_head_loss_cuda on CPU tensors (loss differentiable in hidden,
// head weight and head bias).
ops::RewardHeadLoss emulated_bt_head_loss(const at::Tensor& hidden, const at::Tensor& chosen_index,
                                          const at::Tensor& rejected_index,
                                          const at::Tensor& head_weight,
                                          const at::Tensor& head_bias, const at::Tensor& margin,
                                          double centering);

// How a deliberately broken kernel is broken.
enum class KernelFault {
  none,
  ignore_segments,  // attention: every token taken as prompt (chosen and rejected see each other)
  ignore_margin,    // head + loss: the margins are dropped
};

// The emulated kernels as installable implementations for the CPU (bf16 / fp16, head size 64
// or 128 for attention; fp32 / bf16 / fp16 hidden states with an fp32 head for the loss).
ops::FusedAttentionKernel emulated_attention_kernel(KernelFault fault = KernelFault::none);
ops::FusedHeadLossKernel emulated_head_loss_kernel(KernelFault fault = KernelFault::none);

// While alive, the emulated kernels are installed for the CPU; afterwards none is (and the
// CPU self-test results are forgotten).
class InstalledCpuKernels {
 public:
  InstalledCpuKernels(KernelFault attention_fault, KernelFault head_loss_fault);
  ~InstalledCpuKernels();
  InstalledCpuKernels(const InstalledCpuKernels&) = delete;
  InstalledCpuKernels& operator=(const InstalledCpuKernels&) = delete;
};

}  // namespace omnirm::testing

#endif  // OMNIRM_KERNEL_EMULATION
