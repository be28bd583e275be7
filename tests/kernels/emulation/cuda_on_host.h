// The CUDA C++ spellings the kernels in kernels/ use, defined for a host compiler on top of
// the SIMT executor (simt.h), so that their device code compiles and runs on the host. Include
// it before any kernel header, with PAIR_ATTENTION_HOST_EMULATION defined (that selects
// pair_attention_ptx_emulated.h for the PTX primitives) and, for kernels whose shared memory
// is declared in the block, CUDA_ON_HOST_STATIC_SHARED (see __shared__ below). The CUDA
// headers for bf16 / fp16 and the runtime API types are the toolkit's own, which support host
// compilers.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime_api.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <type_traits>

#include "simt.h"

// The toolkit's headers define these for host compilers as annotations; here they go.
#undef __global__
#undef __device__
#undef __host__
#undef __forceinline__
#undef __launch_bounds__
#undef __align__
#undef __shared__
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))
// Blocks run one after another, so block-scope `__shared__` variables become `static` ones,
// shared by the block's threads, when the including file defines CUDA_ON_HOST_STATIC_SHARED
// (kernels with only static shared memory). Otherwise `extern __shared__` arrays name a
// global the emulation defines and hands to simt::launch as the block's shared memory; a
// file's kernels must use one kind or the other.
#if defined(CUDA_ON_HOST_STATIC_SHARED)
#define __shared__ static
#else
#define __shared__
#endif

#define threadIdx (::simt::thread_index())
#define blockIdx (::simt::block_index())
#define gridDim (::simt::grid_dim())
#define blockDim (::simt::block_dim())

inline void __syncthreads() { simt::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) {
  if (mask != 0xffffffffu) {
    simt::fail("__syncwarp with a partial mask is not emulated");
  }
  simt::sync_warp();
}

template <typename T>
T __shfl_xor_sync(unsigned mask, T value, int lane_mask) {
  if (mask != 0xffffffffu) {
    simt::fail("shuffles with a partial mask are not emulated");
  }
  return simt::warp_collective(
      value, [lane_mask](int lane, const T* values) { return values[(lane ^ lane_mask) & 31]; });
}

template <typename T>
T __shfl_down_sync(unsigned mask, T value, unsigned delta) {
  if (mask != 0xffffffffu) {
    simt::fail("shuffles with a partial mask are not emulated");
  }
  return simt::warp_collective(value, [delta](int lane, const T* values) {
    const unsigned source = static_cast<unsigned>(lane) + delta;
    return source < 32 ? values[source] : values[lane];
  });
}

// Threads of a block never run at the same time, so a plain update is atomic.
inline float atomicAdd(float* address, float value) {
  const float old = *address;
  *address = old + value;
  return old;
}

inline __nv_bfloat16 atomicAdd(__nv_bfloat16* address, __nv_bfloat16 value) {
  const __nv_bfloat16 old = *address;
  *address = __float2bfloat16(__bfloat162float(old) + __bfloat162float(value));
  return old;
}

inline __half atomicAdd(__half* address, __half value) {
  const __half old = *address;
  *address = __float2half(__half2float(old) + __half2float(value));
  return old;
}

inline float __int_as_float(int bits) { return std::bit_cast<float>(bits); }

inline uint64_t __cvta_generic_to_shared(const void* pointer) {
  return simt::shared_offset(pointer);
}

// The device overloads of min and max, for any mix of integer widths the kernels use.
template <typename A, typename B>
std::common_type_t<A, B> min(A a, B b) {
  return a < b ? a : b;
}
template <typename A, typename B>
std::common_type_t<A, B> max(A a, B b) {
  return a < b ? b : a;
}
