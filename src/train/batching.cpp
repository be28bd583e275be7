// Implementation of train/batching.h.
#include "omnirm/train/batching.h"

#include <ATen/ATen.h>

#include <numeric>

#include "omnirm/infer/media_batch.h"

namespace omnirm::train {

namespace {

// splitmix64: a tiny, portable PRNG, so shuffles do not depend on the standard library.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

template <typename T>
at::Tensor to_long_tensor(const std::vector<T>& values, at::Device device) {
  std::vector<int64_t> wide(values.begin(), values.end());
  return at::tensor(wide, at::kLong).to(device);
}

// Media items of each pair in token order (see pack_batch).
std::vector<const data::MediaItem*> items_in_token_order(
    const std::vector<const data::EncodedPair*>& pairs, bool prefix_sharing) {
  std::vector<const data::MediaItem*> order;
  auto append = [&](const data::EncodedPair& pair, int8_t segment) {
    for (const data::MediaItem& item : pair.media_items) {
      if (item.segment == segment) order.push_back(&item);
    }
  };
  for (const data::EncodedPair* pair : pairs) {
    append(*pair, data::kPrompt);
    append(*pair, data::kChosen);
    if (!prefix_sharing) append(*pair, data::kPrompt);
    append(*pair, data::kRejected);
  }
  return order;
}

}  // namespace

PackedBatch pack_batch(const std::vector<const data::EncodedPair*>& pairs, bool prefix_sharing,
                       double margin_scale, const std::optional<data::MediaLayout>& layout) {
  std::vector<const text::PairTokens*> tokens;
  std::vector<float> margins;
  tokens.reserve(pairs.size());
  margins.reserve(pairs.size());
  for (const data::EncodedPair* pair : pairs) {
    tokens.push_back(&pair->tokens);
    margins.push_back(static_cast<float>(pair->margin * margin_scale));
  }
  PackedBatch batch;
  batch.pairs = data::pack_pairs(tokens, margins, prefix_sharing);
  const std::vector<const data::MediaItem*> items = items_in_token_order(pairs, prefix_sharing);
  if (items.empty()) return batch;
  TORCH_INTERNAL_ASSERT(layout.has_value(), "pack_batch: media items without a media layout");
  infer::PackedMedia media = infer::pack_media(items, batch.pairs.tokens, *layout);
  batch.media = std::move(media.inputs);
  batch.media_items = media.items;
  return batch;
}

PackedBatch batch_of(const EncodedDataset& dataset, const std::vector<int64_t>& indices,
                     bool prefix_sharing, double margin_scale) {
  std::vector<const data::EncodedPair*> pairs;
  pairs.reserve(indices.size());
  for (int64_t index : indices) pairs.push_back(&dataset.pairs.at(static_cast<size_t>(index)));
  return pack_batch(pairs, prefix_sharing, margin_scale, dataset.media_layout);
}

model::ModelInputs make_model_inputs(const PackedBatch& packed, at::Device device) {
  const data::PairBatch& batch = packed.pairs;
  model::ModelInputs inputs;
  inputs.tokens = to_long_tensor(batch.tokens, device);
  inputs.positions = to_long_tensor(batch.positions, device);
  inputs.layout = ops::make_attention_layout(batch.row_offsets, batch.segments, device);
  inputs.chosen_last = to_long_tensor(batch.chosen_last, device);
  inputs.rejected_last = to_long_tensor(batch.rejected_last, device);
  inputs.margins = at::tensor(batch.margins, at::kFloat).to(device);
  inputs.media = packed.media.to(device);
  return inputs;
}

std::vector<int64_t> epoch_order(int64_t size, uint64_t seed, int64_t epoch, bool shuffle) {
  std::vector<int64_t> order(static_cast<size_t>(size));
  std::iota(order.begin(), order.end(), 0);
  if (!shuffle) return order;
  uint64_t state = seed * 0x100000001B3ull + static_cast<uint64_t>(epoch) + 1;
  for (int64_t i = size - 1; i > 0; --i) {  // Fisher–Yates
    const auto j = static_cast<int64_t>(splitmix64(state) % static_cast<uint64_t>(i + 1));
    std::swap(order[i], order[j]);
  }
  return order;
}

}  // namespace omnirm::train
