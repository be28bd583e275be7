// Implementation of ops/autocast.h.
#include "omnirm/ops/autocast.h"

#include <ATen/autocast_mode.h>

#include "omnirm/core/error.h"

namespace omnirm::ops {

Precision parse_precision(const std::string& text, const std::string& where) {
  if (text == "fp32") return Precision::fp32;
  if (text == "bf16") return Precision::bf16;
  if (text == "fp16") return Precision::fp16;
  throw UserError(where + ": unknown precision '" + text + "'; use fp32, bf16 or fp16");
}

std::string precision_name(Precision precision) {
  switch (precision) {
    case Precision::bf16:
      return "bf16";
    case Precision::fp16:
      return "fp16";
    case Precision::fp32:
      break;
  }
  return "fp32";
}

c10::ScalarType compute_dtype(Precision precision) {
  switch (precision) {
    case Precision::bf16:
      return c10::ScalarType::BFloat16;
    case Precision::fp16:
      return c10::ScalarType::Half;
    case Precision::fp32:
      break;
  }
  return c10::ScalarType::Float;
}

AutocastState current_autocast_state() {
  AutocastState state;
  state.cpu_enabled = at::autocast::is_autocast_enabled(c10::DeviceType::CPU);
  state.cpu_dtype = at::autocast::get_autocast_dtype(c10::DeviceType::CPU);
  state.cuda_enabled = at::autocast::is_autocast_enabled(c10::DeviceType::CUDA);
  state.cuda_dtype = at::autocast::get_autocast_dtype(c10::DeviceType::CUDA);
  return state;
}

AutocastScope::AutocastScope(c10::DeviceType device_type, Precision precision)
    : saved_(current_autocast_state()) {
  AutocastState next = saved_;
  const bool enabled = precision != Precision::fp32;
  if (device_type == c10::DeviceType::CUDA) {
    next.cuda_enabled = enabled;
    if (enabled) next.cuda_dtype = compute_dtype(precision);
  } else {
    next.cpu_enabled = enabled;
    if (enabled) next.cpu_dtype = compute_dtype(precision);
  }
  apply(next);
  at::autocast::increment_nesting();
}

AutocastScope::AutocastScope(const AutocastState& state) : saved_(current_autocast_state()) {
  apply(state);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  apply(saved_);
  // The cast cache holds lower-precision copies of the weights for the outermost scope only.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
}

void AutocastScope::apply(const AutocastState& state) {
  at::autocast::set_autocast_enabled(c10::DeviceType::CPU, state.cpu_enabled);
  at::autocast::set_autocast_dtype(c10::DeviceType::CPU, state.cpu_dtype);
  at::autocast::set_autocast_enabled(c10::DeviceType::CUDA, state.cuda_enabled);
  at::autocast::set_autocast_dtype(c10::DeviceType::CUDA, state.cuda_dtype);
}

}  // namespace omnirm::ops
