// The fused implementations the ops dispatch to, one of each kind per device type: the
// pair-attention kernels (behind ops::pair_attention's `cuda` and `auto` backends) and the
// value head + Bradley–Terry loss kernel (behind ops::reward_head_loss). A CUDA build has its
// kernels installed for CUDA from the start; the kernel tests install the kernels' host
// emulation for the CPU. Dispatch uses an implementation only after its self-test for that
// device, dtype and size has passed (ops/kernel_self_test.h).
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/DeviceType.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "omnirm/ops/reward_head.h"

namespace omnirm::ops {

struct FusedAttentionKernel {
  std::string name;    // "CUDA pair-attention kernels"
  std::string serves;  // what `supports` accepts, for messages: "bf16 or fp16, head size 64 or 128"
  // query [N, Hq, d], key / value [N, Hkv, d] → whether `run` takes them.
  std::function<bool(const at::Tensor&, const at::Tensor&, const at::Tensor&)> supports;
  // query [N, Hq, d], key / value [N, Hkv, d], row_offsets [rows + 1] int64, segments [N] int8
  // (both on the inputs' device), max_row_length → [N, Hq, d] in the input dtype, differentiable
  // in query, key and value: the problem of ops::attention_reference.
  std::function<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                           const at::Tensor&, const at::Tensor&, int64_t)>
      run;
};

struct FusedHeadLossKernel {
  std::string name;    // "CUDA value head + BT loss kernel"
  std::string serves;  // "fp32, bf16 or fp16 hidden states, fp32 head"
  // hidden [N, D], head_weight [1, D] → whether `run` takes them.
  std::function<bool(const at::Tensor&, const at::Tensor&)> supports;
  // The contract of ops::reward_head_loss (hidden, chosen_index, rejected_index, head_weight,
  // head_bias, margin, centering), inputs contiguous.
  std::function<RewardHeadLoss(const at::Tensor&, const at::Tensor&, const at::Tensor&,
                               const at::Tensor&, const at::Tensor&, const at::Tensor&, double)>
      run;
};

// The implementation installed for `device_type`, or null.
std::shared_ptr<const FusedAttentionKernel> fused_attention_kernel(c10::DeviceType device_type);
std::shared_ptr<const FusedHeadLossKernel> fused_head_loss_kernel(c10::DeviceType device_type);

// Installs `kernel` for `device_type` (nullopt removes it), replacing the one there, and
// forgets the self-test results of that kind on that device type, so a new implementation is
// checked anew. Calls in flight keep the implementation they started with.
void install_fused_attention_kernel(c10::DeviceType device_type,
                                    std::optional<FusedAttentionKernel> kernel);
void install_fused_head_loss_kernel(c10::DeviceType device_type,
                                    std::optional<FusedHeadLossKernel> kernel);

}  // namespace omnirm::ops
