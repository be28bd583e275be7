// pack_batch with media: items in token order, slots at the placeholder rows, prompt media
// once with prefix sharing and twice without, videos flattened to frames.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <memory>
#include <vector>

#include "omnirm/train/batching.h"

namespace {

using omnirm::data::EncodedPair;
using omnirm::data::MediaItem;
using omnirm::data::MediaKind;
using omnirm::data::MediaLayout;

constexpr int32_t kImage = 90, kVideo = 91, kAudio = 92, kMesh = 93, kViews = 94;

MediaLayout test_layout() {
  MediaLayout layout;
  layout.image_id = kImage;
  layout.video_id = kVideo;
  layout.audio_id = kAudio;
  layout.mesh_id = kMesh;
  layout.views_id = kViews;
  layout.image_tokens = 2;
  layout.video_tokens = 4;  // 2 frames x 2 tokens
  layout.audio_tokens = 3;
  layout.point_tokens = 2;
  return layout;
}

MediaItem item(MediaKind kind, int8_t segment, std::vector<int64_t> shape, float value) {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  MediaItem out;
  out.kind = kind;
  out.segment = segment;
  out.shape = std::move(shape);
  out.values = std::make_shared<const std::vector<float>>(static_cast<size_t>(count), value);
  return out;
}

// Pair A: an image in the prompt, a multi-view render in the chosen response.
// Pair B: a video in the prompt, audio in the chosen response, a mesh in the rejected one.
std::vector<EncodedPair> media_pairs() {
  std::vector<EncodedPair> pairs(2);
  pairs[0].tokens = {{1, kImage, kImage, 2}, {3, kViews, kViews}, {5, 6}};
  pairs[0].media_items = {item(MediaKind::image, 0, {3, 2, 2}, 1.0f),
                          item(MediaKind::image, 1, {3, 2, 2}, 2.0f)};
  pairs[1].tokens = {
      {7, kVideo, kVideo, kVideo, kVideo}, {kAudio, kAudio, kAudio, 8}, {kMesh, kMesh, 9}};
  pairs[1].media_items = {item(MediaKind::video, 0, {2, 3, 2, 2}, 3.0f),
                          item(MediaKind::audio, 1, {4, 5}, 4.0f),
                          item(MediaKind::points, 2, {6, 3}, 5.0f)};
  return pairs;
}

std::vector<int64_t> rows_holding(const omnirm::data::PairBatch& batch, int32_t id) {
  std::vector<int64_t> rows;
  for (size_t i = 0; i < batch.tokens.size(); ++i) {
    if (batch.tokens[i] == id) rows.push_back(static_cast<int64_t>(i));
  }
  return rows;
}

std::vector<int64_t> as_vector(const at::Tensor& t) {
  return std::vector<int64_t>(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + t.numel());
}

TEST(PackBatch, SharedPrefixPlacesEachItemOnceAtItsPlaceholders) {
  const std::vector<EncodedPair> pairs = media_pairs();
  const auto packed = omnirm::train::pack_batch({&pairs[0], &pairs[1]}, true, 1.0, test_layout());
  const auto& media = packed.media;
  EXPECT_EQ(packed.media_items, 2 + 2 + 1 + 1);  // two images, two video frames, a clip, a cloud
  ASSERT_TRUE(media.images.defined());
  EXPECT_EQ(media.images.sizes(), (std::vector<int64_t>{2, 3, 2, 2}));
  EXPECT_EQ(media.images[0].max().item<float>(), 1.0f);  // prompt image before the render
  EXPECT_EQ(media.images[1].max().item<float>(), 2.0f);
  std::vector<int64_t> image_rows = rows_holding(packed.pairs, kImage);
  const std::vector<int64_t> views_rows = rows_holding(packed.pairs, kViews);
  image_rows.insert(image_rows.end(), views_rows.begin(), views_rows.end());
  EXPECT_EQ(as_vector(media.image_slots), image_rows);
  EXPECT_EQ(media.video_frames.sizes(), (std::vector<int64_t>{2, 3, 2, 2}));
  EXPECT_EQ(as_vector(media.frame_index), (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(as_vector(media.video_slots), rows_holding(packed.pairs, kVideo));
  EXPECT_EQ(media.audio.sizes(), (std::vector<int64_t>{1, 4, 5}));
  EXPECT_EQ(as_vector(media.audio_slots), rows_holding(packed.pairs, kAudio));
  EXPECT_EQ(media.points.sizes(), (std::vector<int64_t>{1, 6, 3}));
  EXPECT_EQ(as_vector(media.point_slots), rows_holding(packed.pairs, kMesh));
}

TEST(PackBatch, TwoSequenceLayoutEncodesPromptMediaTwice) {
  const std::vector<EncodedPair> pairs = media_pairs();
  const auto packed = omnirm::train::pack_batch({&pairs[0], &pairs[1]}, false, 1.0, test_layout());
  const auto& media = packed.media;
  EXPECT_EQ(packed.media_items, 3 + 4 + 1 + 1);  // the prompt image and video twice
  ASSERT_EQ(media.images.size(0), 3);
  // Row order [P|C] [P|R]: prompt image, render, prompt image again.
  EXPECT_EQ(media.images[0].max().item<float>(), 1.0f);
  EXPECT_EQ(media.images[1].max().item<float>(), 2.0f);
  EXPECT_EQ(media.images[2].max().item<float>(), 1.0f);
  EXPECT_EQ(media.image_slots.numel(), 3 * 2);
  EXPECT_EQ(as_vector(media.frame_index), (std::vector<int64_t>{0, 1, 0, 1}));
  EXPECT_EQ(as_vector(media.video_slots), rows_holding(packed.pairs, kVideo));
  EXPECT_EQ(media.video_slots.numel(), 2 * 4);
}

TEST(PackBatch, TextOnlyPairsHaveNoMedia) {
  EncodedPair pair;
  pair.tokens = {{1, 2}, {3}, {4}};
  pair.margin = 0.5f;
  const auto packed = omnirm::train::pack_batch({&pair}, true, 2.0, std::nullopt);
  EXPECT_EQ(packed.media_items, 0);
  EXPECT_FALSE(packed.media.images.defined());
  EXPECT_EQ(packed.pairs.margins, (std::vector<float>{1.0f}));
}

}  // namespace
