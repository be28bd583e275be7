// Implementation of model/media_encoder.h.
#include "omnirm/model/media_encoder.h"

#include <ATen/ATen.h>

#include <cmath>

#include "omnirm/model/minicpmo_positions.h"

namespace omnirm::model {

namespace {

int64_t rows_of(const at::Tensor& tensor) { return tensor.defined() ? tensor.size(0) : 0; }

// An item kind and its slots come together: both present with rows, or neither.
bool kind_present(const at::Tensor& items, const at::Tensor& slots, const char* items_name,
                  const char* slots_name) {
  const bool has_items = rows_of(items) > 0;
  const bool has_slots = rows_of(slots) > 0;
  TORCH_CHECK(has_items == has_slots, "media inputs: ", has_items ? items_name : slots_name,
              " given without ", has_items ? slots_name : items_name);
  return has_items;
}

void freeze(torch::nn::Module& module) {
  for (at::Tensor& parameter : module.parameters()) parameter.requires_grad_(false);
}

at::ScalarType parameter_dtype(torch::nn::Module& module) {
  return module.parameters().front().scalar_type();
}

// [B, T, D] → [B * T, D]
at::Tensor item_major_rows(const at::Tensor& tokens) { return tokens.flatten(0, 1); }

// Frames [F, 3, S, S] (each video's frames consecutive, its count a multiple of T) → tubelets
// [F / T, 3·T, S, S], channels frame-major; T = 1 returns the frames as they are.
at::Tensor group_frames(const at::Tensor& frames, int64_t temporal_patch) {
  if (temporal_patch == 1) return frames;
  return frames.reshape(
      {frames.size(0) / temporal_patch, 3 * temporal_patch, frames.size(2), frames.size(3)});
}

}  // namespace

MediaEncoderImpl::MediaEncoderImpl(const ModelConfig& config) : config_(config) {
  if (config.vision_layers > 0) {
    VisionTowerOptions vision;
    vision.image_size = config.image_size;
    vision.patch_size = config.patch_size;
    vision.hidden_size = config.vision_hidden;
    vision.num_layers = config.vision_layers;
    vision.num_heads = config.vision_heads;
    vision.intermediate_size = config.vision_intermediate;
    vision.temporal_patch = config.video_temporal_patch;
    vision.motion_channels = config.video_motion_channels;
    vision_tower_ = register_module("vision_tower", VisionTower(vision));
    ResamplerOptions resampler;
    resampler.num_queries = config.image_tokens;
    resampler.embed_dim =
        config.resampler_hidden > 0 ? config.resampler_hidden : config.vision_hidden;
    resampler.num_heads = config.vision_heads;
    resampler.kv_dim = config.vision_hidden;
    resampler.out_dim = config.hidden_size;
    resampler.max_frames = config.max_frames;
    resampler.locality = config.resampler_locality;
    resampler.grid_side = config.image_size / config.patch_size;
    if (config.arch == "minicpmo") {
      // MiniCPM-o's resampler: at the LLM's width with hidden_size / 128 heads.
      resampler.minicpmo = true;
      resampler.embed_dim = config.hidden_size;
      resampler.num_heads = config.hidden_size / 128;
      resampler.locality = 0.0;
    }
    resampler_ = register_module("resampler", Resampler(resampler));
    if (config.freeze_vision) {
      freeze(*vision_tower_);
      freeze(*resampler_);
    }
  }
  if (config.audio_layers > 0) {
    AudioTowerOptions audio;
    audio.num_mel_bins = config.mel_bins;
    audio.hidden_size = config.audio_hidden;
    audio.num_layers = config.audio_layers;
    audio.num_heads = config.audio_heads;
    audio.intermediate_size = config.audio_intermediate;
    audio.max_source_positions = (config.audio_frames + 1) / 2;  // after the stride-2 conv
    audio.pool_stride = config.audio_pool_stride;
    audio.out_dim = config.hidden_size;
    audio.minicpmo = config.arch == "minicpmo";
    audio.chunk_frames = static_cast<int64_t>(std::llround(config.audio_chunk_seconds * 50.0));
    audio_tower_ = register_module("audio_tower", AudioTower(audio));
    if (config.freeze_audio) {
      freeze(*audio_tower_);
      // The fork's --freeze_vision_tower freezes MiniCPM-o's apm but not its
      // audio_projection_layer: under minicpmo the projector keeps training.
      if (config.arch == "minicpmo") {
        for (auto& item : audio_tower_->named_parameters())
          if (item.key().rfind("audio_projection_layer.", 0) == 0)
            item.value().requires_grad_(true);
      }
    }
  }
  if (config.point_layers > 0) {
    PointTowerOptions points;
    points.num_groups = config.point_groups;
    points.group_size = config.point_group_size;
    points.hidden_size = config.point_hidden;
    points.num_layers = config.point_layers;
    points.num_heads = config.point_heads;
    points.intermediate_size = 4 * config.point_hidden;
    points.out_dim = config.hidden_size;
    point_tower_ = register_module("point_tower", PointTower(points));
    if (config.freeze_points) freeze(*point_tower_);
  }
}

MediaFeatures MediaEncoderImpl::forward(const MediaInputs& media) {
  MediaFeatures features;
  const bool has_images = kind_present(media.images, media.image_slots, "images", "image_slots");
  const bool has_video =
      kind_present(media.video_frames, media.video_slots, "video_frames", "video_slots");
  const bool has_clips = kind_present(media.audio, media.audio_slots, "audio", "audio_slots");
  const bool has_clouds = kind_present(media.points, media.point_slots, "points", "point_slots");

  if (has_images || has_video) {
    TORCH_CHECK(has_vision(), "media inputs: the batch has images or video frames but the model ",
                "has no vision tower (model.vision_layers = 0)");
    const int64_t tp = config_.video_temporal_patch;
    const int64_t images = rows_of(media.images);
    const int64_t frames = rows_of(media.video_frames);
    const int64_t tubelets = frames / tp;
    std::vector<at::Tensor> pixels;  // each [N, 3, S, S]
    std::vector<at::Tensor> frame_index;
    if (has_images) {
      pixels.push_back(media.images);
      frame_index.push_back(at::zeros({images}, media.images.options().dtype(at::kLong)));
    }
    if (has_video) {
      TORCH_CHECK(media.frame_index.defined() && media.frame_index.dim() == 1 &&
                      media.frame_index.size(0) == frames,
                  "media inputs: frame_index must be [F] with F = ", frames, " video frames, got ",
                  media.frame_index.defined() ? media.frame_index.sizes() : at::IntArrayRef{});
      TORCH_CHECK((media.frame_index >= 0).all().item<bool>(),
                  "media inputs: frame_index holds a negative frame position");
      pixels.push_back(media.video_frames);
      // A tubelet takes the position of its first frame, counted in tubelets.
      const at::Tensor first = media.frame_index.to(at::kLong).slice(0, 0, frames, tp);
      TORCH_CHECK(frames % tp == 0 && (first % tp == 0).all().item<bool>(),
                  "media inputs: each video's frames must come in whole groups of "
                  "model.video_temporal_patch = ",
                  tp);
      frame_index.push_back(first.div(tp, "floor"));
    }
    for (const at::Tensor& batch : pixels) {
      TORCH_CHECK(batch.dim() == 4 && batch.size(1) == 3 && batch.size(2) == config_.image_size &&
                      batch.size(3) == config_.image_size,
                  "media inputs: images and video frames must be [B, 3, ", config_.image_size, ", ",
                  config_.image_size, "] (model.image_size), got ", batch.sizes());
    }
    // Still images enter as T copies of themselves; video frames as tubelets of T frames.
    if (has_images) pixels[0] = tp == 1 ? pixels[0] : pixels[0].repeat({1, tp, 1, 1});
    if (has_video) pixels.back() = group_frames(pixels.back(), tp);
    const at::Tensor all_pixels = at::cat(pixels).to(parameter_dtype(*vision_tower_));
    const at::Tensor tokens = resampler_->forward(vision_tower_->forward(all_pixels),
                                                  at::cat(frame_index));  // [I + F/T, Q, D]
    if (has_images) features.images = item_major_rows(tokens.narrow(0, 0, images));
    if (has_video) features.video = item_major_rows(tokens.narrow(0, images, tubelets));
    encoded_items_ += images + frames;
  }

  if (has_clips) {
    TORCH_CHECK(has_audio(), "media inputs: the batch has audio clips but the model has no audio ",
                "tower (model.audio_layers = 0)");
    TORCH_CHECK(media.audio.dim() == 3 && media.audio.size(1) == config_.mel_bins &&
                    media.audio.size(2) == config_.audio_frames,
                "media inputs: audio must be [A, ", config_.mel_bins, ", ", config_.audio_frames,
                "] (model.mel_bins, model.audio_frames), got ", media.audio.sizes());
    const at::Tensor mel = media.audio.to(parameter_dtype(*audio_tower_));
    features.audio = item_major_rows(audio_tower_->forward(mel));
    encoded_items_ += media.audio.size(0);
  }

  const bool has_slices =
      kind_present(media.slice_patches, media.slice_slots, "slice_patches", "slice_slots");
  if (has_slices) {
    TORCH_CHECK(has_vision() && config_.arch == "minicpmo",
                "media inputs: image slices need a minicpmo model with a vision tower");
    const int64_t s = media.slice_patches.size(0), p = media.slice_patches.size(1);
    TORCH_CHECK(media.slice_grids.defined() && media.slice_grids.dim() == 2 &&
                    media.slice_grids.size(0) == s && media.slice_grids.size(1) == 2,
                "media inputs: slice_grids must be [S, 2] with S = ", s);
    const at::Tensor grids = media.slice_grids.to(at::kCPU, at::kLong);
    const int64_t side = config_.image_size / config_.patch_size;
    at::Tensor positions = at::zeros({s, p}, at::kLong);
    at::Tensor key_mask = at::zeros({s, p}, at::kBool);
    for (int64_t i = 0; i < s; ++i) {
      const int64_t h = grids[i][0].item<int64_t>(), w = grids[i][1].item<int64_t>();
      TORCH_CHECK(h > 0 && w > 0 && h * w <= p, "media inputs: slice ", i, " has a ", h, "x", w,
                  " patch grid, more than its ", p, " patch rows");
      positions[i].narrow(0, 0, h * w).copy_(navit_position_ids(h, w, side));
      key_mask[i].narrow(0, 0, h * w).fill_(true);
    }
    const at::Device device = media.slice_patches.device();
    key_mask = key_mask.to(device);
    const at::Tensor patches = vision_tower_->forward_patches(
        media.slice_patches.to(parameter_dtype(*vision_tower_)), positions.to(device), key_mask);
    features.slices =
        item_major_rows(resampler_->forward_grid(patches, key_mask, grids.to(device)));
    encoded_items_ += s;
  }

  if (!media.audio_chunks.empty()) {
    TORCH_CHECK(has_audio() && config_.arch == "minicpmo",
                "media inputs: audio chunks need a minicpmo model with an audio tower");
    TORCH_CHECK(media.audio_chunk_slots.defined(),
                "media inputs: audio_chunks given without "
                "audio_chunk_slots");
    std::vector<at::Tensor> rows;
    for (const at::Tensor& chunk : media.audio_chunks) {
      TORCH_CHECK(chunk.dim() == 2 && chunk.size(0) == config_.mel_bins &&
                      chunk.size(1) <= config_.audio_frames,
                  "media inputs: an audio chunk must be [", config_.mel_bins,
                  ", T] with T <= ", config_.audio_frames, ", got ", chunk.sizes());
      rows.push_back(
          audio_tower_->forward_chunk(chunk.unsqueeze(0).to(parameter_dtype(*audio_tower_))));
    }
    features.audio_chunks = at::cat(rows);
    encoded_items_ += static_cast<int64_t>(media.audio_chunks.size());
  }

  if (has_clouds) {
    TORCH_CHECK(has_points(), "media inputs: the batch has point clouds but the model has no ",
                "point tower (model.point_layers = 0)");
    TORCH_CHECK(media.points.dim() == 3 && media.points.size(1) == config_.num_points &&
                    media.points.size(2) == 3,
                "media inputs: points must be [M, ", config_.num_points,
                ", 3] (model.num_points), got ", media.points.sizes());
    const at::Tensor cloud = media.points.to(parameter_dtype(*point_tower_));
    features.points = item_major_rows(point_tower_->forward(cloud));
    encoded_items_ += media.points.size(0);
  }
  return features;
}

void MediaEncoderImpl::set_activation_checkpointing(int64_t every) {
  if (!vision_tower_.is_empty()) vision_tower_->set_activation_checkpointing(every);
  if (!audio_tower_.is_empty()) audio_tower_->set_activation_checkpointing(every);
  if (!point_tower_.is_empty()) point_tower_->set_activation_checkpointing(every);
}

}  // namespace omnirm::model
