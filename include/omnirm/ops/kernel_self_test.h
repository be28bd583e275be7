// Self-tests of the fused kernels on first use. The first time a process would use a fused
// implementation (ops/fused_kernels.h) for a device, dtype and size, it runs it once on a small
// random problem against the plain ATen path and holds it to its accuracy rule
// (ops/accuracy_rules.h): the pair-attention kernels against the reference attention on
// pair-prefix rows of every kind (output and the three input gradients), the fused head + loss
// against the composed head and loss (loss, rewards and the three gradients). On a GPU this
// takes milliseconds. The result is kept for the rest of the process.
//
// Dispatch asks *_kernel_usable(): a passed test says yes; a failed one says no and logs one
// line the first time (the `auto` backend falls back for the rest of the run), or, where the
// fused kernels are required (`model.attention_backend: cuda`), throws with the figures.
// The inputs come from a private generator: the global random state is left untouched.
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "omnirm/ops/fused_kernels.h"

namespace omnirm::ops {

enum class FusedKind { attention, head_loss };

struct SelfTestResult {
  FusedKind kind = FusedKind::attention;
  std::string kernel;  // the implementation's name
  std::string device;  // "cuda:0"
  std::string dtype;   // "bf16"
  std::string shape;   // "head size 128, 28 query / 4 key-value heads" or "hidden size 3584"
  bool passed = false;
  std::string failures;  // the rule's failure lines joined by "; " (empty when passed)
  std::string figures;   // every tensor's error and its bound
  double milliseconds = 0.0;

  // "CUDA pair-attention kernels on cuda:0 (bf16, head size 128, ...)".
  std::string subject() const;
};

// A fused kernel that failed its self-test where it was required.
class KernelSelfTestFailure : public std::runtime_error {
 public:
  explicit KernelSelfTestFailure(const std::string& message) : std::runtime_error(message) {}
};

// The attention self-test for `dtype` inputs with head size `head_dim` and `heads` query /
// `kv_heads` key-value heads on `device`; run once per (kernel, device, dtype, sizes).
SelfTestResult attention_self_test(const FusedAttentionKernel& kernel, at::Device device,
                                   at::ScalarType dtype, int64_t head_dim, int64_t heads,
                                   int64_t kv_heads);

// The head + loss self-test for `dtype` hidden states of width `hidden_size` on `device`.
SelfTestResult head_loss_self_test(const FusedHeadLossKernel& kernel, at::Device device,
                                   at::ScalarType dtype, int64_t hidden_size);

// Whether dispatch may use the kernel for these inputs (runs the self-test on first use). On a
// failed self-test: `required` → throws KernelSelfTestFailure naming `requirement` (the key
// that asked for the kernel) with the figures; otherwise logs one line naming `fallback` (the
// first time only) and returns false.
bool attention_kernel_usable(const FusedAttentionKernel& kernel, at::Device device,
                             at::ScalarType dtype, int64_t head_dim, int64_t heads,
                             int64_t kv_heads, bool required);
bool head_loss_kernel_usable(const FusedHeadLossKernel& kernel, at::Device device,
                             at::ScalarType dtype, int64_t hidden_size, bool required);

// Every self-test this process has run, in the order they ran.
std::vector<SelfTestResult> self_test_results();

// Forgets the results of `kind` on `device_type` (a new implementation was installed).
void forget_self_tests(FusedKind kind, c10::DeviceType device_type);

// Where the one-line notes of failed self-tests go; the default writes them to stderr. An
// empty function restores the default.
void set_kernel_log(std::function<void(const std::string&)> sink);

}  // namespace omnirm::ops
