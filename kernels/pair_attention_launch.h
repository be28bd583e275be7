// Private to kernels/: the per-head-dim kernel launchers of pair attention, each instantiated
// in its own .cu file (pair_attention_{fwd,bwd}_hdim{64,128}.cu) so they compile in parallel.
// The parameters are already validated by the caller (pair_attention.cu).
#pragma once

#include "pair_attention.h"

namespace pair_attention {

// T: __nv_bfloat16 or __half. Launch only; returns the launch status.
template <typename T, int kHeadDim>
cudaError_t launch_forward(const PairAttentionParams& params);

// Needs tile_summary, grad_output_dot and a zeroed grad_query_accum; writes grad_key,
// grad_value and accumulates grad_query_accum (unscaled). Returns the launch status.
template <typename T, int kHeadDim>
cudaError_t launch_backward(const PairAttentionParams& params);

}  // namespace pair_attention
