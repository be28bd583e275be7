// Tile-level segment rules of the pair-prefix attention kernels, shared by the device code and
// host-side tests (plain C++, no CUDA headers needed). A summary entry is the OR of
// segment_bit() over up to kSummaryTile consecutive tokens of one row, tiles counted from the
// row's first token; a kernel tile (a multiple of kSummaryTile tokens) ORs its entries.
//
// classify_tile() promises, for queries [q_begin, q_end) and keys [k_begin, k_end) of a row of
// `length` tokens whose bits cover (at least) the in-row tokens of those ranges:
//   kSkip — no (query, key) pair of the ranges is allowed by the mask rule
//           (key <= query, key segment is prompt or equals the query's segment);
//   kFull — both ranges lie inside the row and every pair is allowed (no masking needed);
//   kMasked — anything else: the kernel masks element by element.
#pragma once

#include <cstdint>

#if defined(__CUDACC__)
#define PAIR_ATTENTION_HD __host__ __device__ __forceinline__
#else
#define PAIR_ATTENTION_HD inline
#endif

namespace pair_attention {

constexpr int kSummaryTile = 64;     // tokens per summary entry
constexpr uint8_t kPromptBit = 1;    // segment code 0
constexpr uint8_t kOtherBit = 0x80;  // any code outside [0, 7): shared, so never "all equal"

enum class TileKind : uint8_t { kSkip = 0, kMasked = 1, kFull = 2 };

// Bit of a segment code: codes 0..6 get their own bit, every other code shares kOtherBit.
PAIR_ATTENTION_HD uint8_t segment_bit(int8_t code) {
  return (code >= 0 && code < 7) ? static_cast<uint8_t>(1u << code) : kOtherBit;
}

// Number of summary entries of a row of at most max_row_length tokens.
PAIR_ATTENTION_HD int64_t summary_tiles_per_row(int64_t max_row_length) {
  return (max_row_length + kSummaryTile - 1) / kSummaryTile;
}

// True when a query whose segment bit is in query_bits may attend some key whose bit is in
// key_bits (ignoring positions).
PAIR_ATTENTION_HD bool segments_may_attend(uint8_t query_bits, uint8_t key_bits) {
  return (key_bits & kPromptBit) != 0 || (key_bits & query_bits) != 0;
}

// True when every query in query_bits may attend every key in key_bits (ignoring positions):
// the keys are all prompt, or the non-prompt keys and all queries share one known code.
PAIR_ATTENTION_HD bool segments_all_attend(uint8_t query_bits, uint8_t key_bits) {
  const uint8_t other_keys = static_cast<uint8_t>(key_bits & ~kPromptBit);
  if (other_keys == 0) {
    return true;
  }
  const bool single_query_code =
      query_bits != 0 && (query_bits & (query_bits - 1)) == 0 && query_bits != kOtherBit;
  return single_query_code && other_keys == query_bits;
}

PAIR_ATTENTION_HD TileKind classify_tile(int64_t q_begin, int64_t q_end, int64_t k_begin,
                                         int64_t k_end, int64_t length, uint8_t query_bits,
                                         uint8_t key_bits) {
  const bool complete = q_end <= length && k_end <= length;
  const int64_t q_last = (q_end < length ? q_end : length) - 1;
  const int64_t k_last = (k_end < length ? k_end : length) - 1;
  if (q_last < q_begin || k_last < k_begin) {
    return TileKind::kSkip;  // a range lies outside the row
  }
  if (k_begin > q_last) {
    return TileKind::kSkip;  // every key comes after every query
  }
  if (!segments_may_attend(query_bits, key_bits)) {
    return TileKind::kSkip;
  }
  const bool causal_full = k_last <= q_begin;
  return complete && causal_full && segments_all_attend(query_bits, key_bits) ? TileKind::kFull
                                                                              : TileKind::kMasked;
}

}  // namespace pair_attention
