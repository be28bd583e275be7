// Host runs of the pair-attention kernels (contract in emulated_pair_attention.h). This file
// compiles the kernels' device code with the host compiler: cuda_on_host.h first, then the
// kernel headers, with PAIR_ATTENTION_HOST_EMULATION defined by the build.
#include "cuda_on_host.h"

// The storage behind the kernels' `extern __shared__ shared_bytes[]`: the most shared memory
// a block may have on sm_90.
namespace pair_attention {
constexpr size_t kEmulatedSharedBytes = 227 * 1024;
__attribute__((aligned(128))) unsigned char shared_bytes[kEmulatedSharedBytes];
}  // namespace pair_attention

// The kernel headers come after the host definitions of the CUDA spellings they use.
#include "emulated_pair_attention.h"
#include "pair_attention_aux.cuh"
#include "pair_attention_bwd.cuh"
#include "pair_attention_fwd.cuh"

#include <cstring>
#include <type_traits>

static_assert(pair_attention::ForwardConfig<128>::kSharedBytes <=
                      pair_attention::kEmulatedSharedBytes &&
                  pair_attention::BackwardConfig<128>::kSharedBytes <=
                      pair_attention::kEmulatedSharedBytes,
              "the kernels fit in a block's shared memory");

namespace omnirm::testing {
namespace {

using namespace pair_attention;

constexpr unsigned kSmallKernelThreads = 256;
constexpr unsigned kSmallKernelBlocks = 16;  // grid-stride kernels: any grid covers the work

void launch(simt::Dim3 grid, unsigned threads, size_t shared, const simt::LaunchOptions& options,
            const std::function<void()>& kernel) {
  simt::launch(grid, simt::Dim3{threads, 1, 1}, pair_attention::shared_bytes, shared, options,
               kernel);
}

void run_summary(const PairAttentionParams& params, const simt::LaunchOptions& options) {
  const int entries = static_cast<int>(summary_tiles_per_row(params.max_row_length));
  const int64_t total = static_cast<int64_t>(params.num_rows) * entries;
  const auto blocks =
      static_cast<unsigned>((total + kSmallKernelThreads - 1) / kSmallKernelThreads);
  launch(simt::Dim3{blocks, 1, 1}, kSmallKernelThreads, 0, options, [&] {
    summary_kernel(params.row_offsets, params.segments, params.num_rows, entries,
                   params.tile_summary);
  });
}

template <typename T, int kHeadDim>
void run_forward(const PairAttentionParams& params, const simt::LaunchOptions& options) {
  using Config = ForwardConfig<kHeadDim>;
  run_summary(params, options);
  const simt::Dim3 grid{Config::query_tiles(params.max_row_length),
                        static_cast<unsigned>(params.num_heads),
                        static_cast<unsigned>(params.num_rows)};
  launch(grid, Config::kThreads, Config::kSharedBytes, options,
         [&] { pair_attention_forward_kernel<T, kHeadDim>(params); });
}

template <typename T, int kHeadDim>
void run_backward(const PairAttentionParams& params, const simt::LaunchOptions& options) {
  using Config = BackwardConfig<kHeadDim>;
  const int64_t q_elements = params.num_tokens * params.num_heads * params.head_dim;
  std::memset(params.grad_query_accum, 0, static_cast<size_t>(q_elements) * sizeof(float));
  run_summary(params, options);
  launch(simt::Dim3{kSmallKernelBlocks, 1, 1}, kSmallKernelThreads, 0, options, [&] {
    output_dot_kernel<T>(static_cast<const T*>(params.output),
                         static_cast<const T*>(params.grad_output), params.num_tokens,
                         params.num_heads, params.head_dim, params.grad_output_dot);
  });
  const simt::Dim3 grid{Config::key_tiles(params.max_row_length),
                        static_cast<unsigned>(params.num_kv_heads),
                        static_cast<unsigned>(params.num_rows)};
  launch(grid, Config::kThreads, Config::kSharedBytes, options,
         [&] { pair_attention_backward_kernel<T, kHeadDim>(params); });
  launch(simt::Dim3{kSmallKernelBlocks, 1, 1}, kSmallKernelThreads, 0, options, [&] {
    grad_query_kernel<T>(params.grad_query_accum, q_elements, params.softmax_scale,
                         static_cast<T*>(params.grad_query));
  });
}

// Calls call(T{}, std::integral_constant<int, d>{}) for the dtype T and head dim d of `params`.
template <typename Call>
void with_dtype_and_head_dim(const PairAttentionParams& params, Call&& call) {
  const bool bf16 = params.dtype == PairAttentionDtype::kBFloat16;
  if (params.head_dim == 64) {
    bf16 ? call(__nv_bfloat16{}, std::integral_constant<int, 64>{})
         : call(__half{}, std::integral_constant<int, 64>{});
  } else {
    bf16 ? call(__nv_bfloat16{}, std::integral_constant<int, 128>{})
         : call(__half{}, std::integral_constant<int, 128>{});
  }
}

}  // namespace

void emulated_pair_attention_forward(const PairAttentionParams& params,
                                     const simt::LaunchOptions& options) {
  with_dtype_and_head_dim(params, [&](auto zero, auto head_dim) {
    run_forward<decltype(zero), decltype(head_dim)::value>(params, options);
  });
}

void emulated_pair_attention_backward(const PairAttentionParams& params,
                                      const simt::LaunchOptions& options) {
  with_dtype_and_head_dim(params, [&](auto zero, auto head_dim) {
    run_backward<decltype(zero), decltype(head_dim)::value>(params, options);
  });
}

}  // namespace omnirm::testing
