// The PTX primitives of kernels/pair_attention_ptx.cuh, on the host: the same functions, run
// as warp collectives by the SIMT executor (simt.h), with the data movement and fragment
// layouts the PTX ISA specifies for cp.async, ldmatrix.m8n8.x4(.trans).b16 and
// mma.m16n8k16.row.col.f32.{bf16,f16}. kernels/pair_attention_mma.cuh includes this file
// instead of the assembly when PAIR_ATTENTION_HOST_EMULATION is defined.
#pragma once

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <array>
#include <cstdint>
#include <cstring>

#include "simt.h"

namespace pair_attention {

inline uint32_t shared_address(const void* pointer) { return simt::shared_offset(pointer); }

inline void cp_async_16(uint32_t shared, const void* global, bool valid) {
  simt::async_copy(shared, global, 16, valid);
}

inline void cp_async_4(uint32_t shared, const void* global, bool valid) {
  simt::async_copy(shared, global, 4, valid);
}

inline void cp_async_commit() { simt::async_commit(); }

template <int kPending>
void cp_async_wait() {
  simt::async_wait(kPending);
}

namespace emulated {

inline uint16_t shared_u16(uint32_t offset) {
  uint16_t value;
  std::memcpy(&value, simt::shared_at(offset, 2, 2), 2);
  return value;
}

// Lanes 8m..8m+7 give the 16-byte aligned addresses of the rows of 8x8 block m; lane
// 4g + t receives in register m row g, columns 2t and 2t+1 (transposed: rows 2t and 2t+1,
// column g), the lower column (row) in the lower half.
inline void ldmatrix(uint32_t (&regs)[4], uint32_t address, bool transposed) {
  const auto loaded =
      simt::warp_collective(address, [transposed](int lane, const uint32_t* addresses) {
        for (int l = 0; l < 32; ++l) {
          simt::shared_at(addresses[l], 16, 16);  // every row address: aligned and in range
        }
        const int g = lane / 4;
        const int t = lane % 4;
        std::array<uint32_t, 4> out{};
        for (int m = 0; m < 4; ++m) {
          uint32_t low;
          uint32_t high;
          if (transposed) {
            low = shared_u16(addresses[8 * m + 2 * t] + 2 * g);
            high = shared_u16(addresses[8 * m + 2 * t + 1] + 2 * g);
          } else {
            low = shared_u16(addresses[8 * m + g] + 4 * t);
            high = shared_u16(addresses[8 * m + g] + 4 * t + 2);
          }
          out[m] = low | (high << 16);
        }
        return out;
      });
  for (int m = 0; m < 4; ++m) {
    regs[m] = loaded[m];
  }
}

inline float bf16_bits_to_float(uint16_t bits) {
  uint32_t word = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &word, 4);
  return value;
}

inline float f16_bits_to_float(uint16_t bits) {
  __half_raw raw;
  raw.x = bits;
  return __half2float(__half(raw));
}

struct MmaOperands {
  uint32_t a[4];
  uint32_t b[2];
};

// The lower (half 0) or upper (half 1) 16-bit element of a register.
inline uint16_t half_of(uint32_t reg, int half) {
  return static_cast<uint16_t>(half == 0 ? reg & 0xFFFFu : reg >> 16);
}

// acc += A B with A 16x16 and B 16x8 spread over the warp as in pair_attention_mma.cuh:
// A(r, c) is in lane 4 (r % 8) + (c % 8) / 2, register (r / 8) + 2 (c / 8), half c % 2;
// B(k, n) in lane 4 n + (k % 8) / 2, register k / 8, half k % 2; this lane's accumulators are
// C(g, 2t), C(g, 2t + 1), C(g + 8, 2t), C(g + 8, 2t + 1).
template <float (*kToFloat)(uint16_t)>
void mma(float (&acc)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  const MmaOperands mine{{a[0], a[1], a[2], a[3]}, {b0, b1}};
  const auto products = simt::warp_collective(mine, [](int lane, const MmaOperands* lanes) {
    const auto a_at = [&](int r, int c) {
      const MmaOperands& from = lanes[4 * (r % 8) + (c % 8) / 2];
      return kToFloat(half_of(from.a[(r / 8) + 2 * (c / 8)], c % 2));
    };
    const auto b_at = [&](int k, int n) {
      const MmaOperands& from = lanes[4 * n + (k % 8) / 2];
      return kToFloat(half_of(from.b[k / 8], k % 2));
    };
    const int g = lane / 4;
    const int t = lane % 4;
    std::array<float, 4> out{};
    for (int i = 0; i < 4; ++i) {
      const int r = g + 8 * (i / 2);
      const int n = 2 * t + i % 2;
      double sum = 0.0;
      for (int k = 0; k < 16; ++k) {
        sum += static_cast<double>(a_at(r, k)) * static_cast<double>(b_at(k, n));
      }
      out[i] = static_cast<float>(sum);
    }
    return out;
  });
  for (int i = 0; i < 4; ++i) {
    acc[i] += products[i];
  }
}

}  // namespace emulated

inline void ldmatrix_x4(uint32_t (&regs)[4], uint32_t address) {
  emulated::ldmatrix(regs, address, false);
}

inline void ldmatrix_x4_trans(uint32_t (&regs)[4], uint32_t address) {
  emulated::ldmatrix(regs, address, true);
}

inline void mma_m16n8k16_bf16(float (&acc)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  emulated::mma<emulated::bf16_bits_to_float>(acc, a, b0, b1);
}

inline void mma_m16n8k16_f16(float (&acc)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  emulated::mma<emulated::f16_bits_to_float>(acc, a, b0, b1);
}

}  // namespace pair_attention
