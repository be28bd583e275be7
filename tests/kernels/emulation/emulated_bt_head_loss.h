// The fused Bradley–Terry head kernels of kernels/ (their device code, unchanged) run on the
// host by the SIMT executor: the same kernel sequence as bt_head_loss_forward / _backward, on
// host memory. For tests only.
#pragma once

#include "bt_head_loss.h"
#include "simt.h"

namespace omnirm::testing {

// Every pointer of `params` is host memory laid out as bt_head_loss.h describes, and the
// parameters are valid (bt_head_loss_forward would not return cudaErrorInvalidValue). Writes
// what bt_head_loss_forward writes. Throws std::runtime_error when the emulation finds a fault.
void emulated_bt_head_loss_forward(const BtHeadLossParams& params,
                                   const simt::LaunchOptions& options);

// As bt_head_loss_backward.
void emulated_bt_head_loss_backward(const BtHeadLossParams& params,
                                    const simt::LaunchOptions& options);

}  // namespace omnirm::testing
