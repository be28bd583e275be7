// The pair-attention kernels of kernels/ (their device code, unchanged) run on the host by the
// SIMT executor: the same kernel sequence as pair_attention_forward / pair_attention_backward,
// on host memory. For tests only: a few thousand tokens take seconds.
#pragma once

#include "pair_attention.h"
#include "simt.h"

namespace omnirm::testing {

// Every pointer of `params` is host memory laid out as pair_attention.h describes; the
// parameters must be valid (pair_attention_params_problem would return nullptr). Writes what
// pair_attention_forward writes. Throws std::runtime_error when the emulation finds a fault.
void emulated_pair_attention_forward(const PairAttentionParams& params,
                                     const simt::LaunchOptions& options);

// As pair_attention_backward: writes tile_summary, grad_output_dot, grad_query_accum,
// grad_query, grad_key and grad_value.
void emulated_pair_attention_backward(const PairAttentionParams& params,
                                      const simt::LaunchOptions& options);

}  // namespace omnirm::testing
