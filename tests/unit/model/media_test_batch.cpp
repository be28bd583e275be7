// Implementation of media_test_batch.h.
#include "media_test_batch.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

namespace omnirm::model::testing {

namespace {

int64_t tokens_per_item(const ModelConfig& config, MediaKind kind) {
  const MediaTokenCounts counts = media_token_counts(config);
  switch (kind) {
    case MediaKind::image:
      return counts.image;
    case MediaKind::video_frame:
      return counts.video_frame;
    case MediaKind::audio:
      return counts.audio;
    case MediaKind::points:
      return counts.points;
  }
  return 0;
}

at::Tensor longs(const std::vector<int64_t>& values) { return at::tensor(values, at::kLong); }

template <typename T>
at::Tensor longs_of(const std::vector<T>& values) {
  return longs(std::vector<int64_t>(values.begin(), values.end()));
}

// Items stacked into one tensor, or undefined when there are none.
at::Tensor stacked(const std::vector<at::Tensor>& items) {
  return items.empty() ? at::Tensor() : at::stack(items);
}

at::Tensor slots_or_none(const std::vector<int64_t>& slots) {
  return slots.empty() ? at::Tensor() : longs(slots);
}

}  // namespace

ModelConfig omni_test_config() {
  ModelConfig c;
  c.hidden_size = 32;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.intermediate_size = 64;
  c.init_std = 0.05;
  c.vision_layers = 1;
  c.vision_hidden = 16;
  c.vision_heads = 2;
  c.vision_intermediate = 32;
  c.image_size = 16;
  c.patch_size = 8;
  c.image_tokens = 3;
  c.max_frames = 4;
  c.audio_layers = 1;
  c.audio_hidden = 16;
  c.audio_heads = 2;
  c.audio_intermediate = 32;
  c.mel_bins = 8;
  c.audio_frames = 20;
  c.audio_pool_stride = 5;
  c.point_layers = 1;
  c.point_hidden = 16;
  c.point_heads = 2;
  c.num_points = 32;
  c.point_groups = 4;
  c.point_group_size = 8;
  return c;
}

MediaItem random_item(const ModelConfig& config, MediaKind kind, int64_t frame) {
  switch (kind) {
    case MediaKind::image:
    case MediaKind::video_frame:
      return {kind, at::rand({3, config.image_size, config.image_size}) * 2 - 1, frame};
    case MediaKind::audio:
      return {kind, at::randn({config.mel_bins, config.audio_frames}), 0};
    case MediaKind::points:
      return {kind, at::randn({config.num_points, 3}), 0};
  }
  return {};
}

std::vector<int32_t> text_tokens(int64_t n) {
  at::Tensor t = at::randint(kTextVocab, {n}, at::kInt);
  return std::vector<int32_t>(t.data_ptr<int32_t>(), t.data_ptr<int32_t>() + n);
}

std::vector<int32_t> placeholders(const ModelConfig& config, const std::vector<MediaItem>& items,
                                  int64_t index) {
  const int64_t count = tokens_per_item(config, items.at(static_cast<size_t>(index)).kind);
  return std::vector<int32_t>(static_cast<size_t>(count), kFirstMarker + int32_t(index));
}

std::vector<int32_t> join(const std::vector<std::vector<int32_t>>& runs) {
  std::vector<int32_t> joined;
  for (const auto& run : runs) joined.insert(joined.end(), run.begin(), run.end());
  return joined;
}

MediaInputs media_of(const ModelConfig& config, const std::vector<int32_t>& tokens,
                     const std::vector<MediaItem>& items) {
  std::vector<at::Tensor> images, frames, clips, clouds;
  std::vector<int64_t> frame_index, image_slots, video_slots, audio_slots, point_slots;
  const auto n = static_cast<int64_t>(tokens.size());
  for (int64_t i = 0; i < n;) {
    if (tokens[size_t(i)] < kFirstMarker) {
      ++i;
      continue;
    }
    const MediaItem& item = items.at(size_t(tokens[size_t(i)] - kFirstMarker));
    const int64_t count = tokens_per_item(config, item.kind);
    std::vector<int64_t> run;
    for (int64_t j = i; j < i + count; ++j) {
      EXPECT_LT(j, n) << "a placeholder run is cut short";
      EXPECT_EQ(tokens[size_t(j)], tokens[size_t(i)]) << "a placeholder run is cut short";
      run.push_back(j);
    }
    i += count;
    auto append = [&](std::vector<at::Tensor>& data, std::vector<int64_t>& slots) {
      data.push_back(item.data);
      slots.insert(slots.end(), run.begin(), run.end());
    };
    switch (item.kind) {
      case MediaKind::image:
        append(images, image_slots);
        break;
      case MediaKind::video_frame:
        append(frames, video_slots);
        frame_index.push_back(item.frame);
        break;
      case MediaKind::audio:
        append(clips, audio_slots);
        break;
      case MediaKind::points:
        append(clouds, point_slots);
        break;
    }
  }
  MediaInputs media;
  media.images = stacked(images);
  media.image_slots = slots_or_none(image_slots);
  media.video_frames = stacked(frames);
  media.frame_index = slots_or_none(frame_index);
  media.video_slots = slots_or_none(video_slots);
  media.audio = stacked(clips);
  media.audio_slots = slots_or_none(audio_slots);
  media.points = stacked(clouds);
  media.point_slots = slots_or_none(point_slots);
  return media;
}

ModelInputs inputs_of(const data::PairBatch& batch, const MediaInputs& media) {
  ModelInputs in;
  in.tokens = longs_of(batch.tokens);
  in.positions = longs_of(batch.positions);
  in.layout = ops::make_attention_layout(batch.row_offsets, batch.segments, at::Device(at::kCPU));
  in.chosen_last = longs(batch.chosen_last);
  in.rejected_last = longs(batch.rejected_last);
  in.margins = at::tensor(batch.margins, at::kFloat);
  in.media = media;
  return in;
}

ModelInputs pack(const ModelConfig& config, const std::vector<text::PairTokens>& pairs,
                 const std::vector<MediaItem>& items, bool prefix_sharing) {
  std::vector<const text::PairTokens*> pointers;
  for (const auto& pair : pairs) pointers.push_back(&pair);
  const data::PairBatch batch =
      data::pack_pairs(pointers, std::vector<float>(pairs.size(), 0.0f), prefix_sharing);
  return inputs_of(batch, media_of(config, batch.tokens, items));
}

}  // namespace omnirm::model::testing
