// From dataset indices to a packed PairBatch, and from a PairBatch to model tensors.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <vector>

#include "omnirm/data/pair_batch.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/train/dataset.h"

namespace omnirm::train {

// Packs dataset.pairs[indices[i]] in order; margins are scaled by `margin_scale`.
data::PairBatch batch_of(const EncodedDataset& dataset, const std::vector<int64_t>& indices,
                         bool prefix_sharing, double margin_scale);

// Moves a PairBatch onto `device` as the model's inputs.
model::ModelInputs make_model_inputs(const data::PairBatch& batch, at::Device device);

// The order pairs are visited in during `epoch`: a seeded permutation when `shuffle`,
// identical on every machine for the same (size, seed, epoch).
std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch, bool shuffle);

}  // namespace omnirm::train
