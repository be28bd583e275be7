// From encoded pairs to a packed batch (tokens in the pair-prefix or two-sequence layout,
// plus the decoded media of every item with the rows its adapter output fills), and from a
// packed batch to model tensors.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>
#include <optional>
#include <vector>

#include "omnirm/data/media_layout.h"
#include "omnirm/data/pair_batch.h"
#include "omnirm/model/media_inputs.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/train/dataset.h"

namespace omnirm::train {

// A packed micro-batch on the host.
struct PackedBatch {
  data::PairBatch pairs;
  model::MediaInputs media;  // CPU tensors; undefined kinds are absent
  int64_t media_items = 0;   // adapter inputs in the batch (a video counts its frames)
};

// Packs `pairs` in order; margins are scaled by `margin_scale`. Media items are laid out in
// token order: per pair prompt, chosen, rejected — and without prefix sharing the prompt's
// media once more before the rejected response, as the naive layout encodes them twice.
// `layout` is required when any pair has media items.
PackedBatch pack_batch(const std::vector<const data::EncodedPair*>& pairs, bool prefix_sharing,
                       double margin_scale, const std::optional<data::MediaLayout>& layout);

// Packs dataset.pairs[indices[i]] in order (with the dataset's media layout).
PackedBatch batch_of(const EncodedDataset& dataset, const std::vector<int64_t>& indices,
                     bool prefix_sharing, double margin_scale);

// Moves a packed batch onto `device` as the model's inputs.
model::ModelInputs make_model_inputs(const PackedBatch& batch, at::Device device);

// The order pairs are visited in during `epoch`: a seeded permutation when `shuffle`,
// identical on every machine for the same (size, seed, epoch).
std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch, bool shuffle);

}  // namespace omnirm::train
