// Validation of the model section (config_checks.h): the backbone's shape and each media
// tower's.
#include <fmt/format.h>

#include <cmath>

#include "config_checks.h"

namespace omnirm::config_checks {

namespace {

void validate_vision(const ModelConfig& model) {
  require_non_negative("model.vision_layers", model.vision_layers);
  require_positive("model.vision_hidden", model.vision_hidden);
  require_positive("model.vision_heads", model.vision_heads);
  require_positive("model.vision_intermediate", model.vision_intermediate);
  require_positive("model.image_size", model.image_size);
  require_positive("model.patch_size", model.patch_size);
  require_positive("model.image_tokens", model.image_tokens);
  require_positive("model.max_frames", model.max_frames);
  require_positive("model.video_temporal_patch", model.video_temporal_patch);
  require(!model.video_motion_channels || model.video_temporal_patch > 1,
          "model.video_motion_channels measures motion between the frames of a tubelet: set "
          "model.video_temporal_patch to 2 or more, or turn it off");
  require_divisible("model.vision_hidden", model.vision_hidden, "model.vision_heads",
                    model.vision_heads);
  require_divisible("model.image_size", model.image_size, "model.patch_size", model.patch_size);
  require_non_negative("model.resampler_hidden", model.resampler_hidden);
  if (model.resampler_hidden > 0)
    require_divisible("model.resampler_hidden", model.resampler_hidden, "model.vision_heads",
                      model.vision_heads);
}

void validate_audio(const ModelConfig& model) {
  require_non_negative("model.audio_layers", model.audio_layers);
  require_positive("model.audio_hidden", model.audio_hidden);
  require_positive("model.audio_heads", model.audio_heads);
  require_positive("model.audio_intermediate", model.audio_intermediate);
  require_positive("model.mel_bins", model.mel_bins);
  require_positive("model.audio_frames", model.audio_frames);
  require_positive("model.audio_pool_stride", model.audio_pool_stride);
  require_divisible("model.audio_hidden", model.audio_hidden, "model.audio_heads",
                    model.audio_heads);
  require(model.audio_hidden >= 4 && model.audio_hidden % 2 == 0,
          fmt::format("model.audio_hidden must be even and at least 4 (sinusoidal positions), "
                      "got {}",
                      model.audio_hidden));
  const int64_t encoder_frames = (model.audio_frames + 1) / 2;  // after the stride-2 conv
  require(encoder_frames >= model.audio_pool_stride,
          fmt::format("model.audio_frames ({}) leaves {} encoder frames, fewer than "
                      "model.audio_pool_stride ({}); raise the one or lower the other",
                      model.audio_frames, encoder_frames, model.audio_pool_stride));
}

void validate_points(const ModelConfig& model) {
  require_non_negative("model.point_layers", model.point_layers);
  require_positive("model.point_hidden", model.point_hidden);
  require_positive("model.point_heads", model.point_heads);
  require_positive("model.num_points", model.num_points);
  require_positive("model.point_groups", model.point_groups);
  require_positive("model.point_group_size", model.point_group_size);
  require_divisible("model.point_hidden", model.point_hidden, "model.point_heads",
                    model.point_heads);
  require(model.point_groups <= model.num_points,
          fmt::format("model.point_groups ({}) must not exceed model.num_points ({})",
                      model.point_groups, model.num_points));
  require(model.point_group_size <= model.num_points,
          fmt::format("model.point_group_size ({}) must not exceed model.num_points ({})",
                      model.point_group_size, model.num_points));
}

// What the MiniCPM-o path reproduces (docs/minicpmo.md); anything else is refused by name.
void validate_minicpmo(const ModelConfig& model) {
  require_one_of("model.arch", model.arch, {"omnirm", "minicpmo"});
  if (model.arch != "minicpmo") return;
  require_positive("model.slice_max", model.slice_max);
  require_positive("model.slice_resolution", model.slice_resolution);
  require(model.vision_layers == 0 || model.hidden_size >= 128,
          fmt::format("model.hidden_size {} is outside what the MiniCPM-o path reproduces: its "
                      "resampler has hidden_size / 128 heads, so it needs 128 or more",
                      model.hidden_size));
  require(model.vision_layers == 0 || model.hidden_size % (model.hidden_size / 128) == 0,
          fmt::format("model.hidden_size {} is outside what the MiniCPM-o path reproduces: it "
                      "must be divisible by its resampler head count hidden_size / 128 = {}",
                      model.hidden_size, model.hidden_size / 128));
  require(model.audio_layers == 0 || model.audio_pool_stride == 2,
          fmt::format("model.audio_pool_stride {} is outside what the MiniCPM-o path "
                      "reproduces: MiniCPM-o's processor counts audio tokens with a pool step of 2",
                      model.audio_pool_stride));
  const double chunk_frames = model.audio_chunk_seconds * 50.0;
  require(model.audio_layers == 0 ||
              (chunk_frames >= 1.0 && std::abs(chunk_frames - std::round(chunk_frames)) < 1e-9),
          fmt::format("model.audio_chunk_seconds {} is outside what the MiniCPM-o path "
                      "reproduces: it must be a positive multiple of 0.02 s (one encoder frame)",
                      model.audio_chunk_seconds));
  require(
      model.vision_layers == 0 || (model.video_temporal_patch == 1 &&
                                   !model.video_motion_channels && model.resampler_locality == 0.0),
      "model.video_temporal_patch, video_motion_channels and resampler_locality belong to "
      "omnirm's own towers; MiniCPM-o has none of them: leave them at 1, false and 0");
}

}  // namespace

void validate_model(const ModelConfig& model) {
  validate_minicpmo(model);
  require_non_negative("model.vocab_size", model.vocab_size);
  require_positive("model.hidden_size", model.hidden_size);
  require_positive("model.num_layers", model.num_layers);
  require_positive("model.num_heads", model.num_heads);
  require_positive("model.num_kv_heads", model.num_kv_heads);
  require_positive("model.intermediate_size", model.intermediate_size);
  require(model.hidden_size % model.num_heads == 0,
          fmt::format("model.hidden_size ({}) must be divisible by model.num_heads ({})",
                      model.hidden_size, model.num_heads));
  require(model.num_heads % model.num_kv_heads == 0,
          fmt::format("model.num_heads ({}) must be divisible by model.num_kv_heads ({})",
                      model.num_heads, model.num_kv_heads));
  const int64_t head_size = model.hidden_size / model.num_heads;
  require(head_size % 2 == 0,
          fmt::format("the head size model.hidden_size / model.num_heads ({} / {} = {}) must be "
                      "even for rotary embeddings",
                      model.hidden_size, model.num_heads, head_size));
  require_positive_number("model.rope_theta", model.rope_theta);
  require_positive_number("model.rms_norm_eps", model.rms_norm_eps);
  require_fraction("model.head_dropout", model.head_dropout, /*one_allowed=*/false);
  require_non_negative_number("model.init_std", model.init_std);
  require_non_negative_number("model.resampler_locality", model.resampler_locality);
  require_one_of("model.attention_backend", model.attention_backend,
                 {"reference", "sdpa", "cuda", "auto"});
  validate_vision(model);
  validate_audio(model);
  validate_points(model);
}

}  // namespace omnirm::config_checks
