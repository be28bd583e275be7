// Packing tokenized pairs into one batch with no padding: the pair-prefix layout
//   row = [ prompt P ][ chosen C ][ rejected R ]        (prefix_sharing = true)
// or the naive layout of two rows per pair
//   [ prompt P ][ chosen C ]   and   [ prompt P ][ rejected R ]   (prefix_sharing = false).
// Rows are attention units: a token attends only within its row, causally, and never to a
// token of the other response (segment rule: key segment is prompt or equals the query's).
// Rejected positions restart at P, so RoPE sees the same positions as a separate sequence.
#pragma once

#include <cstdint>
#include <vector>

#include "omnirm/text/truncation.h"

namespace omnirm::data {

enum Segment : int8_t { kPrompt = 0, kChosen = 1, kRejected = 2 };

struct PairBatch {
  bool prefix_sharing = true;
  std::vector<int32_t> tokens;         // [N] every row back to back
  std::vector<int32_t> positions;      // [N] RoPE position of each token
  std::vector<int8_t> segments;        // [N] Segment of each token
  std::vector<int64_t> row_offsets;    // [rows + 1] start of each row in tokens (cu_seqlens)
  std::vector<int64_t> chosen_last;    // [B] index in tokens of each pair's last chosen token
  std::vector<int64_t> rejected_last;  // [B] likewise for rejected
  std::vector<float> margins;          // [B]
  int64_t data_tokens = 0;  // P + C + R summed over pairs (the data, whatever the layout)

  int64_t pairs() const { return static_cast<int64_t>(chosen_last.size()); }
  int64_t rows() const { return static_cast<int64_t>(row_offsets.size()) - 1; }
  int64_t tokens_in_batch() const { return static_cast<int64_t>(tokens.size()); }
  int64_t max_row_length() const;
};

// Packs pairs in the given order. Every response must be non-empty.
PairBatch pack_pairs(const std::vector<const text::PairTokens*>& pairs,
                     const std::vector<float>& margins, bool prefix_sharing);

}  // namespace omnirm::data
