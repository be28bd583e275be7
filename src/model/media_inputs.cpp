// Implementation of model/media_inputs.h.
#include "omnirm/model/media_inputs.h"

namespace omnirm::model {

namespace {

int64_t rows_of(const at::Tensor& tensor) { return tensor.defined() ? tensor.size(0) : 0; }

at::Tensor moved(const at::Tensor& tensor, at::Device device) {
  return tensor.defined() ? tensor.to(device) : tensor;
}

}  // namespace

int64_t MediaInputs::items() const {
  return rows_of(images) + rows_of(video_frames) + rows_of(audio) + rows_of(points) +
         rows_of(slice_patches) + static_cast<int64_t>(audio_chunks.size());
}

MediaInputs MediaInputs::to(at::Device device) const {
  MediaInputs out;
  out.images = moved(images, device);
  out.image_slots = moved(image_slots, device);
  out.video_frames = moved(video_frames, device);
  out.frame_index = moved(frame_index, device);
  out.video_slots = moved(video_slots, device);
  out.audio = moved(audio, device);
  out.audio_slots = moved(audio_slots, device);
  out.points = moved(points, device);
  out.point_slots = moved(point_slots, device);
  out.slice_patches = moved(slice_patches, device);
  out.slice_grids = moved(slice_grids, device);
  out.slice_slots = moved(slice_slots, device);
  for (const at::Tensor& chunk : audio_chunks) out.audio_chunks.push_back(moved(chunk, device));
  out.audio_chunk_slots = moved(audio_chunk_slots, device);
  return out;
}

MediaTokenCounts media_token_counts(const ModelConfig& config) {
  MediaTokenCounts counts{};
  counts.image = config.image_tokens;
  counts.video_frame = config.image_tokens;
  // The audio tower's stride-2 convolution halves the frames (rounding up), then pooling.
  counts.audio = ((config.audio_frames + 1) / 2) / config.audio_pool_stride;
  counts.points = config.point_groups;
  return counts;
}

}  // namespace omnirm::model
