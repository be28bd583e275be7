// Scoring an encoded pair set with a reward model: every pair packed as a scoring row
// (infer/scoring_rows.h) — [prompt | chosen | rejected] with prefix sharing, or the two rows
// [prompt | chosen] and [prompt | rejected] of the naive layout — batch_pairs pairs per
// forward pass, in eval mode, without gradients. The metrics of the scores are
// eval/pair_metrics.h's.
#pragma once

#include <ATen/Device.h>

#include <cstdint>
#include <vector>

#include "omnirm/eval/pair_metrics.h"
#include "omnirm/infer/encoded_dataset.h"
#include "omnirm/infer/scoring_rows.h"
#include "omnirm/model/reward_model.h"

namespace omnirm::infer {

// The rows of one pair: one row of two responses with prefix sharing, else two rows of one.
std::vector<ScoringRow> pair_rows(const EncodedPair& pair, bool prefix_sharing);

// Scores every pair of `dataset`, in order.
std::vector<eval::PairScore> score_pairs(model::RewardModelImpl& model,
                                         const EncodedDataset& dataset, int64_t batch_pairs,
                                         bool prefix_sharing, at::Device device);

}  // namespace omnirm::infer
