// Implementation of data/pair_batch.h.
#include "omnirm/data/pair_batch.h"

#include <algorithm>
#include <stdexcept>

namespace omnirm::data {

namespace {

void append_span(PairBatch& batch, const std::vector<int32_t>& ids, int32_t first_position,
                 Segment segment) {
  for (size_t i = 0; i < ids.size(); ++i) {
    batch.tokens.push_back(ids[i]);
    batch.positions.push_back(first_position + static_cast<int32_t>(i));
    batch.segments.push_back(segment);
  }
}

void close_row(PairBatch& batch) {
  batch.row_offsets.push_back(static_cast<int64_t>(batch.tokens.size()));
}

int64_t last_index(const PairBatch& batch) { return static_cast<int64_t>(batch.tokens.size()) - 1; }

}  // namespace

int64_t PairBatch::max_row_length() const {
  int64_t longest = 0;
  for (size_t r = 0; r + 1 < row_offsets.size(); ++r) {
    longest = std::max(longest, row_offsets[r + 1] - row_offsets[r]);
  }
  return longest;
}

PairBatch pack_pairs(const std::vector<const text::PairTokens*>& pairs,
                     const std::vector<float>& margins, bool prefix_sharing) {
  if (margins.size() != pairs.size()) {
    throw std::invalid_argument("pack_pairs: one margin per pair expected");
  }
  PairBatch batch;
  batch.prefix_sharing = prefix_sharing;
  batch.row_offsets.push_back(0);
  batch.margins = margins;
  for (const text::PairTokens* pair : pairs) {
    if (pair->chosen.empty() || pair->rejected.empty()) {
      throw std::invalid_argument("pack_pairs: empty response");
    }
    const auto prompt_length = static_cast<int32_t>(pair->prompt.size());
    batch.data_tokens +=
        static_cast<int64_t>(pair->prompt.size() + pair->chosen.size() + pair->rejected.size());
    append_span(batch, pair->prompt, 0, kPrompt);
    append_span(batch, pair->chosen, prompt_length, kChosen);
    batch.chosen_last.push_back(last_index(batch));
    if (!prefix_sharing) {
      close_row(batch);
      append_span(batch, pair->prompt, 0, kPrompt);
    }
    append_span(batch, pair->rejected, prompt_length, kRejected);
    batch.rejected_last.push_back(last_index(batch));
    close_row(batch);
  }
  return batch;
}

}  // namespace omnirm::data
