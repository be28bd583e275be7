// Implementation of infer/media_batch.h.
#include "omnirm/infer/media_batch.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "omnirm/data/minicpmo_layout.h"

namespace omnirm::infer {
namespace {

// Items of one kind as one tensor [count, item shape...], in order.
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

// model.arch minicpmo: slices as padded patch grids and audio chunks at their own lengths, the
// features filling the <unk> rows inside the media bounds in token order.
PackedMedia pack_minicpmo_media(const std::vector<const data::MediaItem*>& items,
                                const std::vector<int32_t>& tokens,
                                const data::MediaLayout& layout) {
  PackedMedia packed;
  const data::MinicpmoSlots slots = data::minicpmo_slots(tokens, layout.minicpmo_ids);
  std::vector<const data::MediaItem*> slices;
  model::MediaInputs& media = packed.inputs;
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
  packed.items = static_cast<int64_t>(items.size());
  return packed;
}

}  // namespace

PackedMedia pack_media(const std::vector<const data::MediaItem*>& items,
                       const std::vector<int32_t>& tokens, const data::MediaLayout& layout) {
  PackedMedia packed;
  if (items.empty()) return packed;
  if (layout.minicpmo) return pack_minicpmo_media(items, tokens, layout);
  std::vector<const data::MediaItem*> by_kind[4];
  for (const data::MediaItem* item : items) by_kind[static_cast<int>(item->kind)].push_back(item);
  std::vector<int64_t> slots[4];
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (layout.expansion(tokens[i]) > 0) {
      slots[static_cast<int>(layout.kind_of(tokens[i]))].push_back(static_cast<int64_t>(i));
    }
  }
  auto slot_tensor = [&](data::MediaKind kind) {
    return at::tensor(slots[static_cast<int>(kind)], at::kLong);
  };
  model::MediaInputs& media = packed.inputs;
  if (const auto& images = by_kind[int(data::MediaKind::image)]; !images.empty()) {
    media.images = stack_items(images);
    media.image_slots = slot_tensor(data::MediaKind::image);
    packed.items += static_cast<int64_t>(images.size());
  }
  if (const auto& videos = by_kind[int(data::MediaKind::video)]; !videos.empty()) {
    const at::Tensor stacked = stack_items(videos);  // [V, F, 3, S, S]
    const int64_t frames = stacked.size(1);
    media.video_frames = stacked.flatten(0, 1);
    media.frame_index = at::arange(frames, at::kLong).repeat({stacked.size(0)});
    media.video_slots = slot_tensor(data::MediaKind::video);
    packed.items += stacked.size(0) * frames;
  }
  if (const auto& clips = by_kind[int(data::MediaKind::audio)]; !clips.empty()) {
    media.audio = stack_items(clips);
    media.audio_slots = slot_tensor(data::MediaKind::audio);
    packed.items += static_cast<int64_t>(clips.size());
  }
  if (const auto& clouds = by_kind[int(data::MediaKind::points)]; !clouds.empty()) {
    media.points = stack_items(clouds);
    media.point_slots = slot_tensor(data::MediaKind::points);
    packed.items += static_cast<int64_t>(clouds.size());
  }
  return packed;
}

}  // namespace omnirm::infer
