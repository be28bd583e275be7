// The media of one packed batch, as the model receives it: decoded float tensors per kind
// and, for every feature row a tower will produce, the row of the packed token batch it
// replaces (its "slot"). Items are ordered as their tokens appear; every tensor is optional
// (undefined = none of that kind in the batch). media_token_counts says how many placeholder
// tokens one item of each kind occupies, so the data side can lay out placeholders.
#pragma once

#include <ATen/Tensor.h>
#include <c10/core/Device.h>

#include <cstdint>
#include <vector>

#include "omnirm/core/config.h"

namespace omnirm::model {

struct MediaInputs {
  at::Tensor images;        // [I, 3, S, S] float in [-1, 1]; S = model.image_size
  at::Tensor image_slots;   // [I * Q] int64: row of the packed batch for each feature row,
                            //   image-major (Q = model.image_tokens)
  at::Tensor video_frames;  // [F, 3, S, S] float in [-1, 1]: all frames of all videos
  at::Tensor frame_index;   // [F] int64: each frame's position in its video (0, 1, ...); with
                            //   video_temporal_patch T, every video's frame count is a
                            //   multiple of T
  at::Tensor video_slots;   // [F / T * Q] int64, frame-group-major
  at::Tensor audio;         // [A, mel_bins, audio_frames] float log-mel
  at::Tensor audio_slots;   // [A * audio_tokens] int64
  at::Tensor points;        // [M, num_points, 3] float
  at::Tensor point_slots;   // [M * point_groups] int64
  // model.arch minicpmo: images and video frames as slices of any aspect ratio (NaViT patch
  // grids, see model/minicpmo_positions.h), audio as 30 s chunks at their own lengths.
  at::Tensor slice_patches;  // [S, P, 3·p·p] float in [-1, 1]: each slice's patches row-major,
                             //   zero rows after its own h·w
  at::Tensor slice_grids;    // [S, 2] int64: each slice's patch rows h and columns w
  at::Tensor slice_slots;    // [S * Q] int64, slice-major (Q = model.image_tokens)
  std::vector<at::Tensor> audio_chunks;  // each [mel_bins, T] float log-mel
  at::Tensor audio_chunk_slots;          // [sum of the chunks' tokens] int64, chunk-major

  // Images + video frames + audio clips + point clouds present.
  int64_t items() const;
  // A copy with every defined tensor on `device` (undefined ones stay undefined).
  MediaInputs to(at::Device device) const;
};

// Placeholder tokens one item of each kind occupies in the packed batch.
struct MediaTokenCounts {
  int64_t image;        // model.image_tokens
  int64_t video_frame;  // model.image_tokens per model.video_temporal_patch frames
  int64_t audio;        // ceil(audio_frames / 2) / audio_pool_stride
  int64_t points;       // model.point_groups
};

// Derived from the config alone, whether or not the tower is present (a model without the
// tower rejects items of its kind).
MediaTokenCounts media_token_counts(const ModelConfig& config);

}  // namespace omnirm::model
