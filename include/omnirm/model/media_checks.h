// Checks of a batch's media layout that read its index tensors, done on the host. On a CUDA
// device these reads would stop the host until the device caught up, so the model runs them
// only on CPU tensors. Batches made by infer::pack_media need them nowhere: their slots are the
// placeholder rows found by scanning the batch's own tokens, inside it and distinct by
// construction, and their frame positions count each video's data.video_frames frames from 0,
// which the config keeps a multiple of the temporal patch and within model.max_frames. The
// checks read through accessors: no ATen operator runs.
#pragma once

#include <ATen/Tensor.h>

#include <cstdint>

#include "omnirm/model/media_inputs.h"

namespace omnirm::model {

// slots [R] int64 on the CPU: every row in [0, tokens). TORCH_CHECK naming `slots_name`.
void check_slots_in_batch(const at::Tensor& slots, int64_t tokens, const char* slots_name);

// Every defined slots tensor of `media` (CPU): no row of the packed batch claimed twice,
// across all kinds.
void check_slots_distinct(const MediaInputs& media);

// frame_index [F] int64 on the CPU: non-negative, each video's frames in whole groups of
// `temporal_patch` (a group's first frame at a multiple of it), and no group position at or past
// `max_frames`.
void check_frame_index(const at::Tensor& frame_index, int64_t temporal_patch, int64_t max_frames);

}  // namespace omnirm::model
