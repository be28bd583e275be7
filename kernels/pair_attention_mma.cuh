// Warp-level building blocks of the pair-attention kernels (sm_80 and later): swizzled
// shared-memory tiles, their asynchronous loads, and the per-dtype tensor-core product and
// conversions, on top of the PTX primitives of pair_attention_ptx.cuh (cp.async, ldmatrix,
// mma.m16n8k16 with fp32 accumulation).
//
// Fragment layouts of mma.sync.m16n8k16 (lane = 4 * g + t, g = lane / 4, t = lane % 4):
//   A (16x16, row-major) reg 0: (g, 2t..2t+1)   reg 1: (g+8, 2t..)   reg 2: (g, 2t+8..)
//                        reg 3: (g+8, 2t+8..)
//   B (16x8, [k][n])     reg 0: (k = 2t..2t+1, n = g)   reg 1: (k = 2t+8.., n = g)
//   C (16x8 fp32)        c0, c1: (g, 2t..2t+1)   c2, c3: (g+8, 2t..2t+1)
// ldmatrix.x4 loads four 8x8 blocks; lanes 8m..8m+7 give the row addresses of block m, and
// every lane receives (row g, columns 2t..2t+1) of each block into register m (with .trans:
// rows 2t..2t+1, column g).
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>

#include "pair_attention_tiles.h"

// The PTX primitives: inline assembly for the GPU, or the host emulation used by the kernel
// emulation tests (tests/kernels/emulation), which compile this device code with a host compiler.
#if defined(PAIR_ATTENTION_HOST_EMULATION)
#include "pair_attention_ptx_emulated.h"
#else
#include "pair_attention_ptx.cuh"
#endif

namespace pair_attention {

// Shared tiles are row-major with kCols elements of 2 bytes per row (kCols a multiple of 64);
// the 16-byte chunk c of row r is stored at chunk c ^ (r % 8), so ldmatrix reads of 8
// consecutive rows at one chunk, and 4-byte writes of 8 rows, hit 8 different bank groups.
//
// Fragment addresses are a per-lane byte offset (lane_a or lane_b, computed once) combined
// with the fragment's origin (row0, col0), both multiples of 16:
//   tile + row0 * kRowBytes + (lane_offset ^ (col0 * 2)).
// The XOR only touches the chunk bits (col0 / 8 is even and the lane's own chunk is 0 or 1), and
// row0 * kRowBytes, a compile-time constant in the unrolled loops, folds into the instruction.
template <int kCols>
struct SwizzledTile {
  static_assert(kCols % 64 == 0, "rows must span at least 8 chunks of 16 bytes");
  static constexpr int kRowBytes = kCols * 2;

  // Lane offset for A operands of a [row][k] tile and B operands of a [k][n] tile (.trans):
  // lane L addresses row (L % 8) + 8 * ((L / 8) % 2), chunk L / 16.
  static __device__ __forceinline__ uint32_t lane_a(int lane) {
    const int row = (lane & 7) + ((lane >> 3) & 1) * 8;
    const int chunk = lane >> 4;
    return static_cast<uint32_t>(row * kRowBytes + ((chunk ^ (row & 7)) << 4));
  }
  // Lane offset for B operands of a [n][k] tile and A operands of a [k][row] tile (.trans):
  // lane L addresses row (L % 8) + 8 * (L / 16), chunk (L / 8) % 2.
  static __device__ __forceinline__ uint32_t lane_b(int lane) {
    const int row = (lane & 7) + (lane >> 4) * 8;
    const int chunk = (lane >> 3) & 1;
    return static_cast<uint32_t>(row * kRowBytes + ((chunk ^ (row & 7)) << 4));
  }
  static __device__ __forceinline__ uint32_t at(uint32_t tile, uint32_t lane_offset, int row0,
                                                int col0) {
    return tile + static_cast<uint32_t>(row0 * kRowBytes) +
           (lane_offset ^ static_cast<uint32_t>(col0 * 2));
  }
  // Byte offset of the element pair (row, col), col even.
  static __device__ __forceinline__ uint32_t element_offset(int row, int col) {
    return static_cast<uint32_t>(row * kRowBytes + (((col >> 3) ^ (row & 7)) << 4) + (col & 7) * 2);
  }
};

// Per element type: the tensor-core product and conversions.
template <typename T>
struct Element;

template <>
struct Element<__nv_bfloat16> {
  // acc (16x8) += a (16x16) * b (16x8).
  static __device__ __forceinline__ void mma(float (&acc)[4], const uint32_t (&a)[4], uint32_t b0,
                                             uint32_t b1) {
    mma_m16n8k16_bf16(acc, a, b0, b1);
  }
  // Two values rounded to bf16; `low` goes to the lower address (the smaller column).
  static __device__ __forceinline__ uint32_t pack(float low, float high) {
    const __nv_bfloat162 pair = __floats2bfloat162_rn(low, high);
    return *reinterpret_cast<const uint32_t*>(&pair);
  }
  static __device__ __forceinline__ float to_float(__nv_bfloat16 value) {
    return __bfloat162float(value);
  }
  static __device__ __forceinline__ __nv_bfloat16 from_float(float value) {
    return __float2bfloat16(value);
  }
};

template <>
struct Element<__half> {
  static __device__ __forceinline__ void mma(float (&acc)[4], const uint32_t (&a)[4], uint32_t b0,
                                             uint32_t b1) {
    mma_m16n8k16_f16(acc, a, b0, b1);
  }
  static __device__ __forceinline__ uint32_t pack(float low, float high) {
    const __half2 pair = __floats2half2_rn(low, high);
    return *reinterpret_cast<const uint32_t*>(&pair);
  }
  static __device__ __forceinline__ float to_float(__half value) { return __half2float(value); }
  static __device__ __forceinline__ __half from_float(float value) { return __float2half(value); }
};

// Operand choice per product (all through ldmatrix.x4, registers as in the layouts above):
//   A from a [row][k] tile:        ldmatrix_x4,       lane_a, origin (row0, k0)
//   A from a [k][row] tile:        ldmatrix_x4_trans, lane_b, origin (k0, row0)
//   B from a [n][k] tile (B = X^T): ldmatrix_x4,      lane_b, origin (n0, k0):
//                                   registers 0, 1 = n-block n0..n0+7, 2, 3 = n0+8..n0+15
//   B from a [k][n] tile:           ldmatrix_x4_trans, lane_a, origin (k0, n0): same split

// Copies a [kRows, kCols] tile whose row r starts at source + r * row_stride (elements) into a
// swizzled shared tile; rows >= valid_rows are zero-filled. All kThreads threads call it; a
// thread copies the same chunk of rows r, r + kRowsPerPass, ... so its swizzle is fixed.
template <int kRows, int kCols, int kThreads, typename T>
__device__ __forceinline__ void load_tile_async(T* tile, const T* source, int64_t row_stride,
                                                int valid_rows) {
  constexpr int kChunksPerRow = kCols / 8;
  constexpr int kRowsPerPass = kThreads / kChunksPerRow;
  static_assert(kThreads % kChunksPerRow == 0 && kRowsPerPass % 8 == 0 && kRows % kRowsPerPass == 0,
                "whole rows per pass, a multiple of 8 of them");
  const int first_row = static_cast<int>(threadIdx.x) / kChunksPerRow;
  const int chunk = static_cast<int>(threadIdx.x) % kChunksPerRow;
  const uint32_t target =
      shared_address(tile) +
      static_cast<uint32_t>(first_row * kCols * 2 + ((chunk ^ (first_row & 7)) << 4));
#pragma unroll
  for (int pass = 0; pass < kRows / kRowsPerPass; ++pass) {
    const int row = pass * kRowsPerPass + first_row;
    const bool valid = row < valid_rows;
    const T* from = source + (valid ? row : 0) * row_stride + chunk * 8;
    cp_async_16(target + static_cast<uint32_t>(pass * kRowsPerPass * kCols * 2), from, valid);
  }
}

// OR of the summary entries covering tokens [begin, end) of a row (entries beyond
// entries_per_row count as empty).
__device__ __forceinline__ uint8_t summary_bits(const uint8_t* row_summary, int begin, int end,
                                                int entries_per_row) {
  uint8_t bits = 0;
  const int last = min((end - 1) / kSummaryTile, entries_per_row - 1);
  for (int entry = begin / kSummaryTile; entry <= last; ++entry) {
    bits |= row_summary[entry];
  }
  return bits;
}

}  // namespace pair_attention
