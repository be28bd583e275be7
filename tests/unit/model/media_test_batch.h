// Test helpers for batches with media: a small omni-modal config, random media items, and
// the data side's job done by hand — token runs that mark where each item's placeholders
// sit, and MediaInputs built by scanning a packed batch for those runs (an item whose
// placeholders appear twice, as a prompt item does in the two-sequence layout, is given
// twice).
#pragma once

#include <cstdint>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/data/pair_batch.h"
#include "omnirm/model/media_inputs.h"
#include "omnirm/model/reward_model.h"

namespace omnirm::model::testing {

enum class MediaKind { image, video_frame, audio, points };

struct MediaItem {
  MediaKind kind;
  at::Tensor data;    // image / frame [3, S, S]; audio [mel_bins, audio_frames]; points [P, 3]
  int64_t frame = 0;  // video frames: position in the video
};

// Token ids below kFirstMarker are text; kFirstMarker + k marks the placeholders of item k.
constexpr int32_t kTextVocab = 40;
constexpr int32_t kFirstMarker = kTextVocab;
constexpr int64_t kVocab = 64;

// A small config with all three towers (2-layer backbone, width 32).
ModelConfig omni_test_config();

// A random item of `kind` shaped for `config`.
MediaItem random_item(const ModelConfig& config, MediaKind kind, int64_t frame = 0);

// n random text tokens.
std::vector<int32_t> text_tokens(int64_t n);

// The placeholder run of item `index` (as many marker tokens as its kind occupies).
std::vector<int32_t> placeholders(const ModelConfig& config, const std::vector<MediaItem>& items,
                                  int64_t index);

// Concatenation of token runs.
std::vector<int32_t> join(const std::vector<std::vector<int32_t>>& runs);

// MediaInputs for `tokens` (a packed batch): every marker run becomes one occurrence of its
// item, in order of appearance, with the run's token indices as slots.
MediaInputs media_of(const ModelConfig& config, const std::vector<int32_t>& tokens,
                     const std::vector<MediaItem>& items);

// ModelInputs for a packed batch and its media, on the CPU.
ModelInputs inputs_of(const data::PairBatch& batch, const MediaInputs& media);

// Packs pairs and builds their inputs in one go.
ModelInputs pack(const ModelConfig& config, const std::vector<text::PairTokens>& pairs,
                 const std::vector<MediaItem>& items, bool prefix_sharing);

}  // namespace omnirm::model::testing
