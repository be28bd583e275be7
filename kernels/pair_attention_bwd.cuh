// Backward kernel of pair attention (contract in pair_attention.h), instantiated per head dim
// by pair_attention_bwd_hdim*.cu. It runs after D = rowsum(dO * O) is in grad_output_dot and
// grad_query_accum is zeroed (pair_attention.cu does both).
//
// Grid (key tiles, Hkv, rows); a CTA of 8 warps owns kBlockN = 128 keys of one key/value head
// and row, warp w the keys [16 w, 16 w + 16); K and V stay in shared memory. It walks every
// (query head of the group, query tile of kBlockM = 64) that classify_tile() does not skip,
// Q, dO, lse and D double-buffered through cp.async, and per step computes, transposed so that
// each warp's rows are its keys:
//   S^T = K Q^T,  P^T = exp2(S^T * scale * log2 e - lse * log2 e)  (masked entries 0)
//   dV += P^T dO,  dP^T = V dO^T,  dS^T = P^T (dP^T - D),  dK += dS^T Q
// dS^T goes to shared memory (input precision): each warp reads its own rows back as the A
// operand of dK, and after a barrier all warps compute dQ = dS K for the 64 queries, each warp one
// 16-row m-tile and a share of the columns, added with fp32 atomics into grad_query_accum
// (unscaled). dK (times scale) and dV are written at the end: one CTA holds all of a key tile's
// contributions, so they need no atomics.
#pragma once

#include "pair_attention.h"
#include "pair_attention_launch.h"
#include "pair_attention_mma.cuh"
#include "pair_attention_tiles.h"

namespace pair_attention {

template <int kHeadDim>
struct BackwardConfig {
  static_assert(kHeadDim == 64 || kHeadDim == 128, "head dims 64 and 128");
  static constexpr int kWarps = 8;
  static constexpr int kThreads = 32 * kWarps;
  static constexpr int kBlockN = 16 * kWarps;   // keys per CTA
  static constexpr int kBlockM = 64;            // queries per step
  static constexpr int kMBlocks = kBlockM / 8;  // 8-column blocks of S^T
  static constexpr int kDBlocks = kHeadDim / 8;
  static constexpr int kKSteps = kHeadDim / 16;
  // dQ = dS K: warps split the kBlockM x d tile into m-tiles of 16 rows x column groups.
  static constexpr int kDqMTiles = kBlockM / 16;
  static constexpr int kDqColumnGroups = kWarps / kDqMTiles;
  static constexpr int kDqColumns = kHeadDim / kDqColumnGroups;
  static constexpr int kDqNBlocks = kDqColumns / 8;
  static constexpr int kKVElements = kBlockN * kHeadDim;
  static constexpr int kQElements = kBlockM * kHeadDim;
  static constexpr int kDsElements = kBlockN * kBlockM;
  // K, V, Q buffers 0/1, dO buffers 0/1, dS^T (2-byte elements), then lse 0/1 and D 0/1 (fp32).
  static constexpr int kSharedBytes =
      (2 * kKVElements + 4 * kQElements + kDsElements) * 2 + 4 * kBlockM * 4;
  static_assert(kWarps % kDqMTiles == 0 && kDqNBlocks % 2 == 0, "dQ split");
  // The launch grid is (key_tiles, Hkv, rows).
  static constexpr unsigned key_tiles(int max_row_length) {
    return static_cast<unsigned>((max_row_length + kBlockN - 1) / kBlockN);
  }
  static_assert(kBlockM % kSummaryTile == 0 && kBlockN % kSummaryTile == 0,
                "tiles are whole summary entries");
};

template <typename T, int kHeadDim>
__global__ void __launch_bounds__(BackwardConfig<kHeadDim>::kThreads, 1)
    pair_attention_backward_kernel(const PairAttentionParams params) {
  using Config = BackwardConfig<kHeadDim>;
  using E = Element<T>;
  constexpr int kThreads = Config::kThreads;
  constexpr int kBlockM = Config::kBlockM;
  constexpr int kBlockN = Config::kBlockN;
  constexpr int kMBlocks = Config::kMBlocks;
  constexpr int kDBlocks = Config::kDBlocks;
  constexpr float kLog2e = 1.4426950408889634f;

  extern __shared__ __align__(128) unsigned char shared_bytes[];
  T* k_tile = reinterpret_cast<T*>(shared_bytes);
  T* v_tile = k_tile + Config::kKVElements;
  T* q_tiles = v_tile + Config::kKVElements;
  T* do_tiles = q_tiles + 2 * Config::kQElements;
  T* ds_tile = do_tiles + 2 * Config::kQElements;
  float* lse_tiles = reinterpret_cast<float*>(ds_tile + Config::kDsElements);
  float* dot_tiles = lse_tiles + 2 * kBlockM;

  const int row = blockIdx.z;
  const int kv_head = blockIdx.y;
  const int k_begin = static_cast<int>(blockIdx.x) * kBlockN;
  const int64_t row_start = params.row_offsets[row];
  const int length = static_cast<int>(params.row_offsets[row + 1] - row_start);
  if (k_begin >= length) {
    return;
  }

  const int warp = static_cast<int>(threadIdx.x) / 32;
  const int lane = static_cast<int>(threadIdx.x) % 32;
  const int g = lane / 4;
  const int t = lane % 4;
  const int group = params.num_heads / params.num_kv_heads;
  const int64_t q_stride = static_cast<int64_t>(params.num_heads) * kHeadDim;
  const int64_t kv_stride = static_cast<int64_t>(params.num_kv_heads) * kHeadDim;
  const int64_t kv_offset =
      (row_start + k_begin) * kv_stride + static_cast<int64_t>(kv_head) * kHeadDim;
  const int8_t* segments = params.segments + row_start;
  const int entries = static_cast<int>(summary_tiles_per_row(params.max_row_length));
  const uint8_t* summary = params.tile_summary + static_cast<int64_t>(row) * entries;

  load_tile_async<kBlockN, kHeadDim, kThreads>(
      k_tile, static_cast<const T*>(params.key) + kv_offset, kv_stride, length - k_begin);
  load_tile_async<kBlockN, kHeadDim, kThreads>(
      v_tile, static_cast<const T*>(params.value) + kv_offset, kv_stride, length - k_begin);

  // Steps: item i = (query head kv_head * group + i / span, query tile m_first + i % span).
  const uint8_t key_bits = summary_bits(summary, k_begin, k_begin + kBlockN, entries);
  const int m_first = k_begin / kBlockM;  // earlier query tiles precede every key
  const int span = (length + kBlockM - 1) / kBlockM - m_first;
  const int items = group * span;
  const auto item_kind = [&](int item) {
    const int q_begin = (m_first + item % span) * kBlockM;
    return classify_tile(q_begin, q_begin + kBlockM, k_begin, k_begin + kBlockN, length,
                         summary_bits(summary, q_begin, q_begin + kBlockM, entries), key_bits);
  };
  const auto next_item = [&](int item) {
    while (item < items && item_kind(item) == TileKind::kSkip) {
      ++item;
    }
    return item;
  };
  const auto item_head = [&](int item) { return kv_head * group + item / span; };
  const auto item_q_begin = [&](int item) { return (m_first + item % span) * kBlockM; };
  const auto load_item = [&](int item, int buffer) {
    const int head = item_head(item);
    const int q_begin = item_q_begin(item);
    const int64_t offset = (row_start + q_begin) * q_stride + static_cast<int64_t>(head) * kHeadDim;
    load_tile_async<kBlockM, kHeadDim, kThreads>(q_tiles + buffer * Config::kQElements,
                                                 static_cast<const T*>(params.query) + offset,
                                                 q_stride, length - q_begin);
    load_tile_async<kBlockM, kHeadDim, kThreads>(do_tiles + buffer * Config::kQElements,
                                                 static_cast<const T*>(params.grad_output) + offset,
                                                 q_stride, length - q_begin);
    const int index = static_cast<int>(threadIdx.x);
    if (index < 2 * kBlockM) {
      const bool is_lse = index < kBlockM;
      const int column = is_lse ? index : index - kBlockM;
      const int q_pos = q_begin + column;
      const bool valid = q_pos < length;
      const float* source = (is_lse ? params.logsumexp : params.grad_output_dot) +
                            static_cast<int64_t>(head) * params.num_tokens + row_start +
                            (valid ? q_pos : 0);
      float* target = (is_lse ? lse_tiles : dot_tiles) + buffer * kBlockM + column;
      cp_async_4(shared_address(target), source, valid);
    }
  };

  int item = next_item(0);
  if (item < items) {
    load_item(item, 0);
  }
  cp_async_commit();

  // This thread's key rows (half h): position in the row and segment.
  int k_pos[2];
  int8_t k_seg[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    k_pos[h] = k_begin + warp * 16 + g + 8 * h;
    k_seg[h] = k_pos[h] < length ? segments[k_pos[h]] : 0;
  }

  float dk[kDBlocks][4];
  float dv[kDBlocks][4];
#pragma unroll
  for (int db = 0; db < kDBlocks; ++db) {
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      dk[db][i] = 0.0f;
      dv[db][i] = 0.0f;
    }
  }

  using Tile = SwizzledTile<kHeadDim>;
  using DsTile = SwizzledTile<kBlockM>;
  const uint32_t lane_a = Tile::lane_a(lane);
  const uint32_t lane_b = Tile::lane_b(lane);
  const uint32_t ds_lane_a = DsTile::lane_a(lane);
  const uint32_t ds_lane_b = DsTile::lane_b(lane);
  const float scale_log2 = params.softmax_scale * kLog2e;
  const uint32_t k_shared = shared_address(k_tile);
  const uint32_t v_shared = shared_address(v_tile);
  const uint32_t ds_shared = shared_address(ds_tile);
  int buffer = 0;
  while (item < items) {
    const int next = next_item(item + 1);
    cp_async_wait<0>();
    __syncthreads();  // this step's tiles have landed; every warp is done with the last step
    if (next < items) {
      load_item(next, buffer ^ 1);
    }
    cp_async_commit();
    const int head = item_head(item);
    const int q_begin = item_q_begin(item);
    const uint32_t q_shared = shared_address(q_tiles + buffer * Config::kQElements);
    const uint32_t do_shared = shared_address(do_tiles + buffer * Config::kQElements);
    const float* lse = lse_tiles + buffer * kBlockM;
    const float* dot = dot_tiles + buffer * kBlockM;

    const bool masked = item_kind(item) == TileKind::kMasked;

    // S^T = K Q^T: rows are this warp's 16 keys, columns the kBlockM queries.
    float s[kMBlocks][4];
#pragma unroll
    for (int mb = 0; mb < kMBlocks; ++mb) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        s[mb][i] = 0.0f;
      }
    }
#pragma unroll 2
    for (int ks = 0; ks < Config::kKSteps; ++ks) {
      uint32_t a[4];
      ldmatrix_x4(a, Tile::at(k_shared, lane_a, warp * 16, ks * 16));
#pragma unroll
      for (int mb2 = 0; mb2 < kMBlocks / 2; ++mb2) {
        uint32_t b[4];
        ldmatrix_x4(b, Tile::at(q_shared, lane_b, mb2 * 16, ks * 16));
        E::mma(s[2 * mb2], a, b[0], b[1]);
        E::mma(s[2 * mb2 + 1], a, b[2], b[3]);
      }
    }

    // P^T, zero where the mask forbids the pair.
#pragma unroll
    for (int mb = 0; mb < kMBlocks; ++mb) {
#pragma unroll
      for (int e = 0; e < 2; ++e) {
        const int column = mb * 8 + 2 * t + e;
        const float lse_log2 = lse[column] * kLog2e;
        const int q_pos = q_begin + column;
        const bool query_in_row = q_pos < length;
        const int8_t q_seg = masked && query_in_row ? segments[q_pos] : 0;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          float p = exp2f(fmaf(s[mb][2 * h + e], scale_log2, -lse_log2));
          if (masked) {
            const bool allowed = query_in_row && k_pos[h] < length && k_pos[h] <= q_pos &&
                                 (k_seg[h] == 0 || k_seg[h] == q_seg);
            p = allowed ? p : 0.0f;
          }
          s[mb][2 * h + e] = p;
        }
      }
    }

    // dV += P^T dO (k = queries).
#pragma unroll
    for (int kk = 0; kk < kBlockM / 16; ++kk) {
      const uint32_t a[4] = {
          E::pack(s[2 * kk][0], s[2 * kk][1]), E::pack(s[2 * kk][2], s[2 * kk][3]),
          E::pack(s[2 * kk + 1][0], s[2 * kk + 1][1]), E::pack(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
      for (int db2 = 0; db2 < kDBlocks / 2; ++db2) {
        uint32_t b[4];
        ldmatrix_x4_trans(b, Tile::at(do_shared, lane_a, kk * 16, db2 * 16));
        E::mma(dv[2 * db2], a, b[0], b[1]);
        E::mma(dv[2 * db2 + 1], a, b[2], b[3]);
      }
    }

    // dP^T = V dO^T.
    float dp[kMBlocks][4];
#pragma unroll
    for (int mb = 0; mb < kMBlocks; ++mb) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        dp[mb][i] = 0.0f;
      }
    }
#pragma unroll 2
    for (int ks = 0; ks < Config::kKSteps; ++ks) {
      uint32_t a[4];
      ldmatrix_x4(a, Tile::at(v_shared, lane_a, warp * 16, ks * 16));
#pragma unroll
      for (int mb2 = 0; mb2 < kMBlocks / 2; ++mb2) {
        uint32_t b[4];
        ldmatrix_x4(b, Tile::at(do_shared, lane_b, mb2 * 16, ks * 16));
        E::mma(dp[2 * mb2], a, b[0], b[1]);
        E::mma(dp[2 * mb2 + 1], a, b[2], b[3]);
      }
    }

    // dS^T = P^T (dP^T - D), rounded to T once into shared memory: this warp's 16 rows are
    // the A operand of dK below, and all rows that of dQ.
#pragma unroll
    for (int mb = 0; mb < kMBlocks; ++mb) {
      const float dot0 = dot[mb * 8 + 2 * t];
      const float dot1 = dot[mb * 8 + 2 * t + 1];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        *reinterpret_cast<uint32_t*>(
            reinterpret_cast<unsigned char*>(ds_tile) +
            DsTile::element_offset(warp * 16 + g + 8 * h, mb * 8 + 2 * t)) =
            E::pack(s[mb][2 * h] * (dp[mb][2 * h] - dot0),
                    s[mb][2 * h + 1] * (dp[mb][2 * h + 1] - dot1));
      }
    }
    __syncwarp();  // the warp reads back its own rows

    // dK += dS^T Q (k = queries).
#pragma unroll 2
    for (int kk = 0; kk < kBlockM / 16; ++kk) {
      uint32_t a[4];
      ldmatrix_x4(a, DsTile::at(ds_shared, ds_lane_a, warp * 16, kk * 16));
#pragma unroll
      for (int db2 = 0; db2 < kDBlocks / 2; ++db2) {
        uint32_t b[4];
        ldmatrix_x4_trans(b, Tile::at(q_shared, lane_a, kk * 16, db2 * 16));
        E::mma(dk[2 * db2], a, b[0], b[1]);
        E::mma(dk[2 * db2 + 1], a, b[2], b[3]);
      }
    }

    __syncthreads();  // dS^T is complete

    // dQ (this step's queries) += dS K: A from dS^T (transposed load), B from K.
    const int dq_row0 = (warp % Config::kDqMTiles) * 16;
    const int dq_col0 = (warp / Config::kDqMTiles) * Config::kDqColumns;
    float dq[Config::kDqNBlocks][4];
#pragma unroll
    for (int nb = 0; nb < Config::kDqNBlocks; ++nb) {
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        dq[nb][i] = 0.0f;
      }
    }
#pragma unroll 2
    for (int kk = 0; kk < kBlockN / 16; ++kk) {
      uint32_t a[4];
      ldmatrix_x4_trans(a, DsTile::at(ds_shared, ds_lane_b, kk * 16, dq_row0));
#pragma unroll
      for (int nb2 = 0; nb2 < Config::kDqNBlocks / 2; ++nb2) {
        uint32_t b[4];
        ldmatrix_x4_trans(b, Tile::at(k_shared, lane_a, kk * 16, dq_col0 + nb2 * 16));
        E::mma(dq[2 * nb2], a, b[0], b[1]);
        E::mma(dq[2 * nb2 + 1], a, b[2], b[3]);
      }
    }
    float* dq_accum = params.grad_query_accum + (row_start + q_begin) * q_stride +
                      static_cast<int64_t>(head) * kHeadDim + dq_col0;
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int q_row = dq_row0 + g + 8 * h;
      if (q_begin + q_row < length) {
        float* target = dq_accum + q_row * q_stride + 2 * t;
#pragma unroll
        for (int nb = 0; nb < Config::kDqNBlocks; ++nb) {
          atomicAdd(target + nb * 8, dq[nb][2 * h]);
          atomicAdd(target + nb * 8 + 1, dq[nb][2 * h + 1]);
        }
      }
    }

    item = next;
    buffer ^= 1;
  }
  cp_async_wait<0>();

  // Epilogue: dK = scale * dS^T Q and dV, for this thread's keys inside the row.
  T* grad_key = static_cast<T*>(params.grad_key) + kv_offset;
  T* grad_value = static_cast<T*>(params.grad_value) + kv_offset;
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    if (k_pos[h] >= length) {
      continue;
    }
    const int64_t offset = (k_pos[h] - k_begin) * kv_stride + 2 * t;
#pragma unroll
    for (int db = 0; db < kDBlocks; ++db) {
      *reinterpret_cast<uint32_t*>(grad_key + offset + db * 8) =
          E::pack(dk[db][2 * h] * params.softmax_scale, dk[db][2 * h + 1] * params.softmax_scale);
      *reinterpret_cast<uint32_t*>(grad_value + offset + db * 8) =
          E::pack(dv[db][2 * h], dv[db][2 * h + 1]);
    }
  }
}

// The launcher (not in the host emulation of the tests, which launches the kernel itself).
#if !defined(PAIR_ATTENTION_HOST_EMULATION)
template <typename T, int kHeadDim>
cudaError_t launch_backward(const PairAttentionParams& params) {
  using Config = BackwardConfig<kHeadDim>;
  const auto kernel = pair_attention_backward_kernel<T, kHeadDim>;
  const cudaError_t status = cudaFuncSetAttribute(
      kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, Config::kSharedBytes);
  if (status != cudaSuccess) {
    return status;
  }
  const dim3 grid(Config::key_tiles(params.max_row_length), params.num_kv_heads, params.num_rows);
  kernel<<<grid, Config::kThreads, Config::kSharedBytes, params.stream>>>(params);
  return cudaGetLastError();
}
#endif

}  // namespace pair_attention
