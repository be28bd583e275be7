// Flash-style attention over packed variable-length rows with the pair-prefix segment rule,
// forward and backward. Torch-free: plain pointers in one parameter struct, work enqueued on
// the given stream, failures returned as cudaError_t (parameter and launch errors only;
// nothing synchronises).
//
// Problem: rows r = 0..rows-1 hold tokens [row_offsets[r], row_offsets[r+1]); query i and key
// j of the same row (positions counted from the row's start) interact when
//   j <= i  and  (segments[j] == 0 (prompt)  or  segments[j] == segments[i]).
// With s = softmax_scale:
//   O_i   = sum_j P_ij V_j,  P_ij = exp(s q_i.k_j - lse_i),  lse_i = log sum_j exp(s q_i.k_j)
// Backward, with D_i = dO_i . O_i and dS_ij = P_ij (dO_i . V_j - D_i):
//   dQ_i = s sum_j dS_ij K_j,  dK_j = s sum_i dS_ij Q_i,  dV_j = sum_i P_ij dO_i
// Grouped-query attention: query head h reads key/value head h / (num_heads / num_kv_heads);
// dK and dV of a key/value head sum over its group of query heads.
//
// Precision: bf16 or fp16 inputs and outputs; products, softmax and every accumulation in
// fp32 (P and dS are rounded to the input type before their matrix products, as in
// FlashAttention). Head dims 64 and 128. Tiles of keys that no query of a tile may attend are
// skipped, using a per-tile segment summary that forward and backward compute on the device
// (one small kernel) into `tile_summary`.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdint>

// Element type of query, key, value, output and their gradients.
enum class PairAttentionDtype : int32_t { kBFloat16 = 1, kFloat16 = 2 };

// Every pointer is device memory; tensors are contiguous, element 0 16-byte aligned.
// N = num_tokens, Hq = num_heads, Hkv = num_kv_heads, d = head_dim.
struct PairAttentionParams {
  int64_t num_tokens = 0;      // N
  int32_t num_rows = 0;        // rows (at most 65535)
  int32_t max_row_length = 0;  // the longest row: must be >= every row's length
  int32_t num_heads = 0;       // Hq (at most 65535)
  int32_t num_kv_heads = 0;    // Hkv, Hq % Hkv == 0
  int32_t head_dim = 0;        // d: 64 or 128
  float softmax_scale = 0.0f;  // s, usually 1 / sqrt(d)
  PairAttentionDtype dtype = PairAttentionDtype::kBFloat16;

  const int64_t* row_offsets = nullptr;  // [rows + 1], 0 = row_offsets[0] < ... = N
  const int8_t* segments = nullptr;      // [N] 0 prompt, 1 chosen, 2 rejected (any int8 works)
  // [rows * pair_attention_summary_entries(max_row_length)] scratch, written by forward and
  // backward before use.
  uint8_t* tile_summary = nullptr;

  const void* query = nullptr;  // [N, Hq, d]
  const void* key = nullptr;    // [N, Hkv, d]
  const void* value = nullptr;  // [N, Hkv, d]
  void* output = nullptr;       // [N, Hq, d]: written by forward, read by backward
  float* logsumexp = nullptr;   // [Hq, N] fp32: written by forward, read by backward

  // Backward only.
  const void* grad_output = nullptr;  // [N, Hq, d] dO
  float* grad_output_dot = nullptr;   // [Hq, N] fp32 scratch: D
  float* grad_query_accum = nullptr;  // [N, Hq, d] fp32 scratch (zeroed by backward)
  void* grad_query = nullptr;         // [N, Hq, d] written
  void* grad_key = nullptr;           // [N, Hkv, d] written
  void* grad_value = nullptr;         // [N, Hkv, d] written

  cudaStream_t stream = nullptr;
};

// Summary entries per row for rows of at most max_row_length tokens.
int64_t pair_attention_summary_entries(int64_t max_row_length);

// A one-line description of what is wrong with the sizes, the dtype or the pointers needed by
// forward (backward = false) or backward (true), or nullptr when they are usable. Host only:
// it reads no device memory, so row_offsets is not checked against num_tokens.
const char* pair_attention_params_problem(const PairAttentionParams& params, bool backward);

// Writes tile_summary, output and logsumexp. cudaErrorInvalidValue when
// pair_attention_params_problem(params, false) is not nullptr, otherwise the launch status.
cudaError_t pair_attention_forward(const PairAttentionParams& params);

// Reads query, key, value, output, logsumexp and grad_output; writes tile_summary,
// grad_output_dot, grad_query_accum, grad_query, grad_key and grad_value.
// cudaErrorInvalidValue when pair_attention_params_problem(params, true) is not nullptr,
// otherwise the launch status.
cudaError_t pair_attention_backward(const PairAttentionParams& params);
