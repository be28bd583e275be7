// Implementation of train/batching.h.
#include "omnirm/train/batching.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>

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

// Items of `kind` as one tensor [count, item shape...], in order.
at::Tensor stack_items(const std::vector<const data::MediaItem*>& items) {
  if (items.empty()) return {};
  std::vector<int64_t> shape = {static_cast<int64_t>(items.size())};
  shape.insert(shape.end(), items.front()->shape.begin(), items.front()->shape.end());
  at::Tensor out = at::empty(shape, at::kFloat);
  float* dst = out.data_ptr<float>();
  const auto per_item = static_cast<size_t>(out.numel() / shape[0]);
  for (const data::MediaItem* item : items) {
    TORCH_CHECK(item->values->size() == per_item,
                "media items of one kind differ in size: ", item->values->size(), " vs ", per_item,
                " values");
    std::copy(item->values->begin(), item->values->end(), dst);
    dst += per_item;
  }
  return out;
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

// model.arch minicpmo: slices as padded patch grids and audio chunks at their own lengths, the
// features filling the <unk> rows inside the media bounds in token order.
void pack_minicpmo_media(const std::vector<const data::MediaItem*>& items,
                         const data::MediaLayout& layout, PackedBatch& batch) {
  const data::MinicpmoSlots slots = data::minicpmo_slots(batch.pairs.tokens, layout.minicpmo_ids);
  std::vector<const data::MediaItem*> slices;
  model::MediaInputs& media = batch.media;
  for (const data::MediaItem* item : items) {
    if (item->kind == data::MediaKind::audio) {
      media.audio_chunks.push_back(
          at::from_blob(const_cast<float*>(item->values->data()), item->shape, at::kFloat).clone());
    } else {
      slices.push_back(item);
    }
  }
  if (!slices.empty()) {
    int64_t most = 0;
    for (const data::MediaItem* item : slices) most = std::max(most, item->shape[0]);
    const int64_t width = slices.front()->shape[1];
    at::Tensor patches = at::zeros({static_cast<int64_t>(slices.size()), most, width});
    std::vector<int64_t> grids;
    for (size_t i = 0; i < slices.size(); ++i) {
      const data::MediaItem& item = *slices[i];
      patches[static_cast<int64_t>(i)]
          .narrow(0, 0, item.shape[0])
          .copy_(at::from_blob(const_cast<float*>(item.values->data()), item.shape, at::kFloat));
      grids.insert(grids.end(), item.grid.begin(), item.grid.end());
    }
    media.slice_patches = patches;
    media.slice_grids = at::tensor(grids, at::kLong).view({-1, 2});
    media.slice_slots = at::tensor(slots.vision, at::kLong);
  }
  if (!media.audio_chunks.empty()) media.audio_chunk_slots = at::tensor(slots.audio, at::kLong);
  batch.media_items += static_cast<int64_t>(items.size());
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
  if (layout->minicpmo) {
    pack_minicpmo_media(items, *layout, batch);
    return batch;
  }

  std::vector<const data::MediaItem*> by_kind[4];
  for (const data::MediaItem* item : items) by_kind[static_cast<int>(item->kind)].push_back(item);
  std::vector<int64_t> slots[4];
  const std::vector<int32_t>& ids = batch.pairs.tokens;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (layout->expansion(ids[i]) > 0) {
      slots[static_cast<int>(layout->kind_of(ids[i]))].push_back(static_cast<int64_t>(i));
    }
  }
  auto slot_tensor = [&](data::MediaKind kind) {
    return at::tensor(slots[static_cast<int>(kind)], at::kLong);
  };
  model::MediaInputs& media = batch.media;
  if (const auto& images = by_kind[int(data::MediaKind::image)]; !images.empty()) {
    media.images = stack_items(images);
    media.image_slots = slot_tensor(data::MediaKind::image);
    batch.media_items += static_cast<int64_t>(images.size());
  }
  if (const auto& videos = by_kind[int(data::MediaKind::video)]; !videos.empty()) {
    const at::Tensor stacked = stack_items(videos);  // [V, F, 3, S, S]
    const int64_t frames = stacked.size(1);
    media.video_frames = stacked.flatten(0, 1);
    media.frame_index = at::arange(frames, at::kLong).repeat({stacked.size(0)});
    media.video_slots = slot_tensor(data::MediaKind::video);
    batch.media_items += stacked.size(0) * frames;
  }
  if (const auto& clips = by_kind[int(data::MediaKind::audio)]; !clips.empty()) {
    media.audio = stack_items(clips);
    media.audio_slots = slot_tensor(data::MediaKind::audio);
    batch.media_items += static_cast<int64_t>(clips.size());
  }
  if (const auto& clouds = by_kind[int(data::MediaKind::points)]; !clouds.empty()) {
    media.points = stack_items(clouds);
    media.point_slots = slot_tensor(data::MediaKind::points);
    batch.media_items += static_cast<int64_t>(clouds.size());
  }
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
