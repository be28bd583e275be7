// Pair-attention backward kernels for head dim 64, bf16 and fp16 (one file per head dim so the
// heavy instantiations compile in parallel).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "pair_attention_bwd.cuh"

namespace pair_attention {

template cudaError_t launch_backward<__nv_bfloat16, 64>(const PairAttentionParams& params);
template cudaError_t launch_backward<__half, 64>(const PairAttentionParams& params);

}  // namespace pair_attention
