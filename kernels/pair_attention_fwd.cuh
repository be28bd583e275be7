// Forward kernel of pair attention (contract in pair_attention.h), instantiated per head dim
// by pair_attention_fwd_hdim*.cu.
//
// Grid (query tiles, Hq, rows); a CTA owns kBlockM = 128 queries of one head and row, each
// warp 16 or 32 consecutive rows (one or two m-tiles of 16, see ForwardConfig). It walks the
// key tiles of its causal range that classify_tile() does not skip, kBlockN = 64 keys at a
// time, K and V double-buffered in shared memory through cp.async (the next tile loads while this
// one is computed). Scores S = Q K^T and O += P V run on tensor cores with fp32 accumulators; the
// softmax is online in base 2 (FlashAttention-2): per row a running maximum m and sum l, O
// rescaled by exp2(m_old - m_new). Only kMasked tiles evaluate the mask element by element.
// The epilogue writes O / l and lse = ln 2 * (m * scale * log2 e + log2 l).
#pragma once

#include <math_constants.h>

#include "pair_attention.h"
#include "pair_attention_launch.h"
#include "pair_attention_mma.cuh"
#include "pair_attention_tiles.h"

namespace pair_attention {

// CTAs per SM the register allocation aims for (sm_90 has the shared memory for two).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
constexpr int kForwardMinBlocksHdim128 = 2;
#else
constexpr int kForwardMinBlocksHdim128 = 1;
#endif

// d = 64: 4 warps of two m-tiles, so every K and V fragment serves two m-tiles.
// d = 128: 8 warps of one m-tile: O then takes 64 registers a thread instead of 128, nothing
// spills, and on sm_90 two CTAs fit per SM at 128 registers.
template <int kHeadDim>
struct ForwardConfig {
  static_assert(kHeadDim == 64 || kHeadDim == 128, "head dims 64 and 128");
  static constexpr int kWarps = kHeadDim == 128 ? 8 : 4;
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kMinBlocks = kHeadDim == 128 ? kForwardMinBlocksHdim128 : 1;
  static constexpr int kBlockM = 128;                      // queries per CTA
  static constexpr int kBlockN = 64;                       // keys per step
  static constexpr int kMTiles = kBlockM / (16 * kWarps);  // m-tiles of 16 rows per warp
  static constexpr int kNBlocks = kBlockN / 8;             // 8-column blocks of S
  static constexpr int kDBlocks = kHeadDim / 8;            // 8-column blocks of O
  static constexpr int kKSteps = kHeadDim / 16;            // k-steps of Q K^T
  static constexpr int kQElements = kBlockM * kHeadDim;
  static constexpr int kKVElements = kBlockN * kHeadDim;
  // Q, then K buffers 0 and 1, then V buffers 0 and 1 (2-byte elements).
  static constexpr int kSharedBytes = (kQElements + 4 * kKVElements) * 2;
  // The launch grid is (query_tiles, Hq, rows).
  static constexpr unsigned query_tiles(int max_row_length) {
    return static_cast<unsigned>((max_row_length + kBlockM - 1) / kBlockM);
  }
};

constexpr float kLog2e = 1.4426950408889634f;
constexpr float kLn2 = 0.6931471805599453f;

template <typename T, int kHeadDim>
__global__ void __launch_bounds__(ForwardConfig<kHeadDim>::kThreads,
                                  ForwardConfig<kHeadDim>::kMinBlocks)
    pair_attention_forward_kernel(const PairAttentionParams params) {
  using Config = ForwardConfig<kHeadDim>;
  using E = Element<T>;
  constexpr int kThreads = Config::kThreads;
  constexpr int kBlockM = Config::kBlockM;
  constexpr int kBlockN = Config::kBlockN;
  constexpr int kMTiles = Config::kMTiles;
  constexpr int kNBlocks = Config::kNBlocks;
  constexpr int kDBlocks = Config::kDBlocks;

  extern __shared__ __align__(128) unsigned char shared_bytes[];
  T* q_tile = reinterpret_cast<T*>(shared_bytes);
  T* k_tiles = q_tile + Config::kQElements;
  T* v_tiles = k_tiles + 2 * Config::kKVElements;

  const int row = blockIdx.z;
  const int head = blockIdx.y;
  const int m_block = static_cast<int>(gridDim.x - 1 - blockIdx.x);  // longest tiles first
  const int64_t row_start = params.row_offsets[row];
  const int length = static_cast<int>(params.row_offsets[row + 1] - row_start);
  const int q_begin = m_block * kBlockM;
  if (q_begin >= length) {
    return;
  }
  const int q_end = q_begin + kBlockM;

  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int g = lane / 4;
  const int t = lane % 4;
  const int kv_head = head / (params.num_heads / params.num_kv_heads);
  const int64_t q_stride = static_cast<int64_t>(params.num_heads) * kHeadDim;
  const int64_t kv_stride = static_cast<int64_t>(params.num_kv_heads) * kHeadDim;
  const T* query = static_cast<const T*>(params.query) + (row_start + q_begin) * q_stride +
                   static_cast<int64_t>(head) * kHeadDim;
  const T* key = static_cast<const T*>(params.key) + row_start * kv_stride +
                 static_cast<int64_t>(kv_head) * kHeadDim;
  const T* value = static_cast<const T*>(params.value) + row_start * kv_stride +
                   static_cast<int64_t>(kv_head) * kHeadDim;
  const int8_t* segments = params.segments + row_start;
  const int entries = static_cast<int>(summary_tiles_per_row(params.max_row_length));
  const uint8_t* summary = params.tile_summary + static_cast<int64_t>(row) * entries;

  const uint8_t query_bits = summary_bits(summary, q_begin, q_end, entries);
  const int key_tiles = (min(length, q_end) + kBlockN - 1) / kBlockN;
  const auto tile_kind = [&](int tile) {
    const int k_begin = tile * kBlockN;
    return classify_tile(q_begin, q_end, k_begin, k_begin + kBlockN, length, query_bits,
                         summary_bits(summary, k_begin, k_begin + kBlockN, entries));
  };
  // The first tile at or after `tile` that is not skipped (key_tiles when none is left).
  const auto next_tile = [&](int tile) {
    while (tile < key_tiles && tile_kind(tile) == TileKind::kSkip) {
      ++tile;
    }
    return tile;
  };
  const auto load_keys = [&](int tile, int buffer) {
    const int k_begin = tile * kBlockN;
    load_tile_async<kBlockN, kHeadDim, kThreads>(k_tiles + buffer * Config::kKVElements,
                                                 key + k_begin * kv_stride, kv_stride,
                                                 length - k_begin);
    load_tile_async<kBlockN, kHeadDim, kThreads>(v_tiles + buffer * Config::kKVElements,
                                                 value + k_begin * kv_stride, kv_stride,
                                                 length - k_begin);
  };

  load_tile_async<kBlockM, kHeadDim, kThreads>(q_tile, query, q_stride, length - q_begin);
  // Never key_tiles: the tile holding key q_begin is attended by query q_begin.
  int tile = next_tile(0);
  if (tile < key_tiles) {
    load_keys(tile, 0);
  }
  cp_async_commit();

  // Position in the row of this thread's query row (m-tile mt, half h).
  const auto query_position = [&](int mt, int h) {
    return q_begin + (warp * kMTiles + mt) * 16 + g + 8 * h;
  };

  float acc[kMTiles][kDBlocks][4];
  float row_max[kMTiles][2];
  float row_sum[kMTiles][2];
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
    for (int db = 0; db < kDBlocks; ++db) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        acc[mt][db][i] = 0.0f;
      }
    }
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      row_max[mt][h] = -CUDART_INF_F;
      row_sum[mt][h] = 0.0f;
    }
  }

  using Tile = SwizzledTile<kHeadDim>;
  const uint32_t lane_a = Tile::lane_a(lane);
  const uint32_t lane_b = Tile::lane_b(lane);
  const float scale_log2 = params.softmax_scale * kLog2e;
  const uint32_t q_shared = shared_address(q_tile);
  int buffer = 0;
  while (tile < key_tiles) {
    const int next = next_tile(tile + 1);
    cp_async_wait<0>();
    __syncthreads();  // this tile has landed; every warp is done with the other buffer
    if (next < key_tiles) {
      load_keys(next, buffer ^ 1);
    }
    cp_async_commit();
    const uint32_t k_shared = shared_address(k_tiles + buffer * Config::kKVElements);
    const uint32_t v_shared = shared_address(v_tiles + buffer * Config::kKVElements);

    // For a masked tile: which of this thread's (row, column) pairs the mask allows, as bit
    // 2 nb + e of allowed[mt][h] (column nb * 8 + 2t + e). Worked out before S is live, so
    // the segment loads do not compete with the accumulators for registers.
    const bool masked = tile_kind(tile) == TileKind::kMasked;
    uint32_t allowed[kMTiles][2];
    if (masked) {
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int q_pos = query_position(mt, h);
          const int8_t q_seg = q_pos < length ? segments[q_pos] : 0;
          uint32_t bits = 0;
#pragma unroll
          for (int nb = 0; nb < kNBlocks; ++nb) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              const int k_pos = tile * kBlockN + nb * 8 + 2 * t + e;
              const bool in_rows = q_pos < length && k_pos < length && k_pos <= q_pos;
              const int8_t k_seg = in_rows ? segments[k_pos] : 0;
              if (in_rows && (k_seg == 0 || k_seg == q_seg)) {
                bits |= 1u << (2 * nb + e);
              }
            }
          }
          allowed[mt][h] = bits;
        }
      }
    }

    // S = Q K^T for this warp's rows and the tile's kBlockN keys.
    float s[kMTiles][kNBlocks][4];
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
      for (int nb = 0; nb < kNBlocks; ++nb) {
#pragma unroll
        for (int i = 0; i < 4; ++i) {
          s[mt][nb][i] = 0.0f;
        }
      }
    }
#pragma unroll 2
    for (int ks = 0; ks < Config::kKSteps; ++ks) {
      uint32_t a[kMTiles][4];
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
        ldmatrix_x4(a[mt], Tile::at(q_shared, lane_a, (warp * kMTiles + mt) * 16, ks * 16));
      }
#pragma unroll
      for (int nb2 = 0; nb2 < kNBlocks / 2; ++nb2) {
        uint32_t b[4];
        ldmatrix_x4(b, Tile::at(k_shared, lane_b, nb2 * 16, ks * 16));
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt) {
          E::mma(s[mt][2 * nb2], a[mt], b[0], b[1]);
          E::mma(s[mt][2 * nb2 + 1], a[mt], b[2], b[3]);
        }
      }
    }

    if (masked) {
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
        for (int h = 0; h < 2; ++h) {
#pragma unroll
          for (int nb = 0; nb < kNBlocks; ++nb) {
#pragma unroll
            for (int e = 0; e < 2; ++e) {
              if (((allowed[mt][h] >> (2 * nb + e)) & 1u) == 0) {
                s[mt][nb][2 * h + e] = -CUDART_INF_F;
              }
            }
          }
        }
      }
    }

    // Online softmax: S becomes P = exp2(S * scale_log2 - m), O and l are rescaled.
#pragma unroll
    for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        float tile_max = -CUDART_INF_F;
#pragma unroll
        for (int nb = 0; nb < kNBlocks; ++nb) {
          tile_max = fmaxf(tile_max, fmaxf(s[mt][nb][2 * h], s[mt][nb][2 * h + 1]));
        }
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 2));
        const float new_max = fmaxf(row_max[mt][h], tile_max);
        // A row with no allowed key so far keeps m = -inf; 0 then stands in, so no NaN.
        const float max_scaled = new_max == -CUDART_INF_F ? 0.0f : new_max * scale_log2;
        const float correction = exp2f(row_max[mt][h] * scale_log2 - max_scaled);
        row_max[mt][h] = new_max;
        float tile_sum = 0.0f;
#pragma unroll
        for (int nb = 0; nb < kNBlocks; ++nb) {
#pragma unroll
          for (int e = 0; e < 2; ++e) {
            const float p = exp2f(fmaf(s[mt][nb][2 * h + e], scale_log2, -max_scaled));
            s[mt][nb][2 * h + e] = p;
            tile_sum += p;
          }
        }
        row_sum[mt][h] = row_sum[mt][h] * correction + tile_sum;
#pragma unroll
        for (int db = 0; db < kDBlocks; ++db) {
          acc[mt][db][2 * h] *= correction;
          acc[mt][db][2 * h + 1] *= correction;
        }
      }
    }

    // O += P V: P's accumulator layout is the A layout of the next product (two 8-column
    // blocks of S make one 16-wide k-step).
#pragma unroll
    for (int kk = 0; kk < kBlockN / 16; ++kk) {
      uint32_t a[kMTiles][4];
#pragma unroll
      for (int mt = 0; mt < kMTiles; ++mt) {
        a[mt][0] = E::pack(s[mt][2 * kk][0], s[mt][2 * kk][1]);
        a[mt][1] = E::pack(s[mt][2 * kk][2], s[mt][2 * kk][3]);
        a[mt][2] = E::pack(s[mt][2 * kk + 1][0], s[mt][2 * kk + 1][1]);
        a[mt][3] = E::pack(s[mt][2 * kk + 1][2], s[mt][2 * kk + 1][3]);
      }
#pragma unroll
      for (int db2 = 0; db2 < kDBlocks / 2; ++db2) {
        uint32_t b[4];
        ldmatrix_x4_trans(b, Tile::at(v_shared, lane_a, kk * 16, db2 * 16));
#pragma unroll
        for (int mt = 0; mt < kMTiles; ++mt) {
          E::mma(acc[mt][2 * db2], a[mt], b[0], b[1]);
          E::mma(acc[mt][2 * db2 + 1], a[mt], b[2], b[3]);
        }
      }
    }

    tile = next;
    buffer ^= 1;
  }
  cp_async_wait<0>();  // nothing is left in flight, but leave no group behind

  // Epilogue: O / l, and the log-sum-exp in natural units.
  T* output =
      static_cast<T*>(params.output) + row_start * q_stride + static_cast<int64_t>(head) * kHeadDim;
  float* logsumexp = params.logsumexp + static_cast<int64_t>(head) * params.num_tokens + row_start;
#pragma unroll
  for (int mt = 0; mt < kMTiles; ++mt) {
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      float sum = row_sum[mt][h];
      sum += __shfl_xor_sync(0xffffffffu, sum, 1);
      sum += __shfl_xor_sync(0xffffffffu, sum, 2);
      const int pos = query_position(mt, h);
      if (pos >= length) {
        continue;
      }
      const float inverse = sum > 0.0f ? 1.0f / sum : 0.0f;
      T* out_row = output + pos * q_stride;
#pragma unroll
      for (int db = 0; db < kDBlocks; ++db) {
        *reinterpret_cast<uint32_t*>(out_row + db * 8 + 2 * t) =
            E::pack(acc[mt][db][2 * h] * inverse, acc[mt][db][2 * h + 1] * inverse);
      }
      if (t == 0) {
        logsumexp[pos] = (row_max[mt][h] * scale_log2 + log2f(sum)) * kLn2;
      }
    }
  }
}

// The launcher (not in the host emulation of the tests, which launches the kernel itself).
#if !defined(PAIR_ATTENTION_HOST_EMULATION)
template <typename T, int kHeadDim>
cudaError_t launch_forward(const PairAttentionParams& params) {
  using Config = ForwardConfig<kHeadDim>;
  const auto kernel = pair_attention_forward_kernel<T, kHeadDim>;
  const cudaError_t status = cudaFuncSetAttribute(
      kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Config::kSharedBytes);
  if (status != cudaSuccess) {
    return status;
  }
  const dim3 grid(Config::query_tiles(params.max_row_length), params.num_heads, params.num_rows);
  kernel<<<grid, Config::kThreads, Config::kSharedBytes, params.stream>>>(params);
  return cudaGetLastError();
}
#endif

}  // namespace pair_attention
