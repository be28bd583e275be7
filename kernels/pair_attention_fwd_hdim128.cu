// Pair-attention forward kernels for head dim 128, bf16 and fp16 (one file per head dim so the
// heavy instantiations compile in parallel).
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "pair_attention_fwd.cuh"

namespace pair_attention {

template cudaError_t launch_forward<__nv_bfloat16, 128>(const PairAttentionParams& params);
template cudaError_t launch_forward<__half, 128>(const PairAttentionParams& params);

}  // namespace pair_attention
