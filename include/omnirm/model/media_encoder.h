// The media encoder: the towers a config asks for (a tower with 0 layers is absent) and the
// pass that turns one batch's MediaInputs into backbone-width feature rows, one per slot.
// Images and video frames share one vision pass (still images take temporal position 0).
// Children are named "vision_tower", "resampler", "audio_tower" and "point_tower"; the
// reward model registers them at its top level under those names. Frozen towers (the
// freeze_* switches; the resampler counts as vision) have requires_grad false.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>

#include "omnirm/core/config.h"
#include "omnirm/model/audio_tower.h"
#include "omnirm/model/media_inputs.h"
#include "omnirm/model/point_tower.h"
#include "omnirm/model/vision_tower.h"

namespace omnirm::model {

// Feature rows per kind, in the order of the matching slots; undefined = none of that kind.
struct MediaFeatures {
  at::Tensor images;        // [I * image_tokens, hidden_size], image-major
  at::Tensor video;         // [F * image_tokens, hidden_size], frame-major
  at::Tensor audio;         // [A * audio_tokens, hidden_size]
  at::Tensor points;        // [M * point_groups, hidden_size]
  at::Tensor slices;        // minicpmo: [S * image_tokens, hidden_size], slice-major
  at::Tensor audio_chunks;  // minicpmo: [sum of the chunks' tokens, hidden_size]
};

class MediaEncoderImpl : public torch::nn::Module {
 public:
  explicit MediaEncoderImpl(const ModelConfig& config);

  // Encodes every item of `media` (tensors on this module's device; float inputs are cast
  // to the towers' dtype). Fails when items come for an absent tower, when a tensor's shape
  // disagrees with the config, or when an item kind comes without its slots (or slots
  // without items).
  MediaFeatures forward(const MediaInputs& media);

  // Items encoded since construction (images + video frames + clips + clouds): what the
  // pair-prefix layout saves shows here.
  int64_t encoded_items() const { return encoded_items_; }

  bool has_vision() const { return !vision_tower_.is_empty(); }
  bool has_audio() const { return !audio_tower_.is_empty(); }
  bool has_points() const { return !point_tower_.is_empty(); }
  // Activation checkpointing of every `every`-th encoder layer of each tower (0: none).
  void set_activation_checkpointing(int64_t every);

 private:
  ModelConfig config_;
  int64_t encoded_items_ = 0;
  VisionTower vision_tower_{nullptr};
  Resampler resampler_{nullptr};
  AudioTower audio_tower_{nullptr};
  PointTower point_tower_{nullptr};
};
TORCH_MODULE(MediaEncoder);

}  // namespace omnirm::model
