// Mixed-precision compute for the model's forward pass: the train.precision switch (fp32,
// bf16, fp16) and a scope that turns LibTorch's autocast on or off for one device type.
// Under autocast the weights stay fp32 (the master copy the optimizer updates); matrix
// products run in the lower precision and their gradients come back to the fp32 weights.
// Rewards and the loss are always computed in fp32 (the head opens an fp32 scope).
#pragma once

#include <c10/core/DeviceType.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace omnirm::ops {

enum class Precision { fp32, bf16, fp16 };

// "fp32" | "bf16" | "fp16"; anything else throws UserError naming `where`.
Precision parse_precision(const std::string& text, const std::string& where);
std::string precision_name(Precision precision);
// The dtype matrix products run in: kFloat, kBFloat16 or kHalf.
c10::ScalarType compute_dtype(Precision precision);

// The autocast switches of the CPU and CUDA device types (thread-local in LibTorch).
struct AutocastState {
  bool cpu_enabled = false;
  c10::ScalarType cpu_dtype = c10::ScalarType::BFloat16;
  bool cuda_enabled = false;
  c10::ScalarType cuda_dtype = c10::ScalarType::Half;
};
AutocastState current_autocast_state();

// While alive, autocast on `device_type` computes in `precision` (fp32: autocast off, which is
// how the value head and the loss stay in fp32 inside a bf16 forward). The previous state is
// restored, and the cast cache cleared when the outermost scope ends.
class AutocastScope {
 public:
  AutocastScope(c10::DeviceType device_type, Precision precision);
  // Re-enters a captured state on both device types (activation checkpointing's recompute runs
  // on the backward thread, which does not inherit the forward's thread-local switches).
  explicit AutocastScope(const AutocastState& state);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  void apply(const AutocastState& state);
  AutocastState saved_;
};

}  // namespace omnirm::ops
