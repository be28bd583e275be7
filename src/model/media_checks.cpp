// Implementation of model/media_checks.h.
#include "omnirm/model/media_checks.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <vector>

namespace omnirm::model {

namespace {

// The int64 values of a 1-D CPU tensor, read through an accessor.
std::vector<int64_t> values_of(const at::Tensor& tensor, const char* name) {
  TORCH_CHECK(tensor.device().is_cpu() && tensor.scalar_type() == at::kLong && tensor.dim() == 1,
              "media checks: ", name, " must be a 1-D int64 CPU tensor");
  const at::Tensor dense = tensor.contiguous();
  const auto view = dense.accessor<int64_t, 1>();
  std::vector<int64_t> values(static_cast<size_t>(view.size(0)));
  for (int64_t i = 0; i < view.size(0); ++i) values[size_t(i)] = view[i];
  return values;
}

}  // namespace

void check_slots_in_batch(const at::Tensor& slots, int64_t tokens, const char* slots_name) {
  for (const int64_t row : values_of(slots, slots_name)) {
    TORCH_CHECK(row >= 0 && row < tokens, "media splice: ", slots_name, " holds row ", row,
                ", outside the packed batch of ", tokens, " tokens");
  }
}

void check_slots_distinct(const MediaInputs& media) {
  std::vector<int64_t> rows;
  for (const at::Tensor* slots :
       {&media.image_slots, &media.video_slots, &media.audio_slots, &media.point_slots,
        &media.slice_slots, &media.audio_chunk_slots}) {
    if (!slots->defined()) continue;
    const std::vector<int64_t> values = values_of(*slots, "slots");
    rows.insert(rows.end(), values.begin(), values.end());
  }
  std::sort(rows.begin(), rows.end());
  const auto repeated = std::adjacent_find(rows.begin(), rows.end());
  TORCH_CHECK(repeated == rows.end(), "media splice: row ", repeated == rows.end() ? 0 : *repeated,
              " of the packed batch is claimed by two media feature rows; each placeholder "
              "token takes one");
}

void check_frame_index(const at::Tensor& frame_index, int64_t temporal_patch, int64_t max_frames) {
  const std::vector<int64_t> frames = values_of(frame_index, "frame_index");
  TORCH_CHECK(frames.size() % static_cast<size_t>(temporal_patch) == 0,
              "media inputs: each video's frames must come in whole groups of "
              "model.video_temporal_patch = ",
              temporal_patch);
  for (size_t i = 0; i < frames.size(); ++i) {
    TORCH_CHECK(frames[i] >= 0, "media inputs: frame_index holds a negative frame position");
    if (i % static_cast<size_t>(temporal_patch) != 0) continue;
    TORCH_CHECK(frames[i] % temporal_patch == 0,
                "media inputs: each video's frames must come in whole groups of "
                "model.video_temporal_patch = ",
                temporal_patch);
    TORCH_CHECK(frames[i] / temporal_patch < max_frames,
                "resampler: a frame index exceeds max_frames ", max_frames);
  }
}

}  // namespace omnirm::model
