// Implementation of infer/pair_scoring.h.
#include "omnirm/infer/pair_scoring.h"

#include <algorithm>

#include "omnirm/data/pair_batch.h"

namespace omnirm::infer {
namespace {

// The pair's media items of `segment`, relabelled as belonging to `row_segment`.
void add_media(const EncodedPair& pair, int8_t segment, int8_t row_segment, ScoringRow& row) {
  for (const data::MediaItem& item : pair.media_items) {
    if (item.segment != segment) continue;
    row.media.push_back(item);  // shares the decoded values
    row.media.back().segment = row_segment;
  }
}

}  // namespace

std::vector<ScoringRow> pair_rows(const EncodedPair& pair, bool prefix_sharing) {
  if (prefix_sharing) {
    ScoringRow row;
    row.prompt = pair.tokens.prompt;
    row.responses = {pair.tokens.chosen, pair.tokens.rejected};
    add_media(pair, data::kPrompt, 0, row);
    add_media(pair, data::kChosen, 1, row);
    add_media(pair, data::kRejected, 2, row);
    return {std::move(row)};
  }
  std::vector<ScoringRow> rows(2);
  const int8_t sides[2] = {data::kChosen, data::kRejected};
  for (int side = 0; side < 2; ++side) {
    ScoringRow& row = rows[static_cast<size_t>(side)];
    row.prompt = pair.tokens.prompt;
    row.responses = {side == 0 ? pair.tokens.chosen : pair.tokens.rejected};
    add_media(pair, data::kPrompt, 0, row);
    add_media(pair, sides[side], 1, row);
  }
  return rows;
}

std::vector<eval::PairScore> score_pairs(model::RewardModelImpl& model,
                                         const EncodedDataset& dataset, int64_t batch_pairs,
                                         bool prefix_sharing, at::Device device) {
  std::vector<eval::PairScore> scores;
  scores.reserve(dataset.pairs.size());
  const int64_t batch = std::max<int64_t>(1, batch_pairs);
  for (int64_t start = 0; start < dataset.size(); start += batch) {
    const int64_t end = std::min(dataset.size(), start + batch);
    std::vector<ScoringRow> rows;
    for (int64_t i = start; i < end; ++i) {
      for (ScoringRow& row : pair_rows(dataset.pairs[static_cast<size_t>(i)], prefix_sharing)) {
        rows.push_back(std::move(row));
      }
    }
    std::vector<const ScoringRow*> pointers;
    for (const ScoringRow& row : rows) pointers.push_back(&row);
    const std::vector<std::vector<float>> rewards =
        score_rows(model, pointers, dataset.media_layout, device);
    for (int64_t i = start; i < end; ++i) {
      const EncodedPair& pair = dataset.pairs[static_cast<size_t>(i)];
      const size_t k = static_cast<size_t>(i - start);
      const float chosen = prefix_sharing ? rewards[k][0] : rewards[2 * k][0];
      const float rejected = prefix_sharing ? rewards[k][1] : rewards[2 * k + 1][0];
      scores.push_back({pair.id, pair.task, pair.tags, pair.tie, chosen, rejected});
    }
  }
  return scores;
}

}  // namespace omnirm::infer
