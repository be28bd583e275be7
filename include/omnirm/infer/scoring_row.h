// One scoring row before packing: a prompt's tokens and the tokens of each of its responses,
// with the decoded media of each part. Torch-free, so request parsing and tokenizing can
// build rows without the model; infer/scoring_rows.h packs and scores them.
#pragma once

#include <cstdint>
#include <vector>

#include "omnirm/data/media_layout.h"

namespace omnirm::infer {

// Segments are int8 and 0 is the prompt: at most 127 responses share a row.
inline constexpr int64_t kMaxResponsesPerRow = 127;

struct ScoringRow {
  std::vector<int32_t> prompt;                  // token ids, media placeholders expanded
  std::vector<std::vector<int32_t>> responses;  // 1..kMaxResponsesPerRow, each non-empty
  // Decoded media: segment 0 the prompt's, segment i response i's, each segment's items in
  // the order of their placeholders.
  std::vector<data::MediaItem> media;

  // prompt + every response: what the row adds to a batch.
  int64_t tokens() const {
    auto total = static_cast<int64_t>(prompt.size());
    for (const std::vector<int32_t>& response : responses) {
      total += static_cast<int64_t>(response.size());
    }
    return total;
  }
};

}  // namespace omnirm::infer
