// Implementation of infer/media_hook.h.
#include "omnirm/infer/media_hook.h"

#include <fmt/format.h>

#include <exception>
#include <memory>

#include "omnirm/core/error.h"
#include "omnirm/model/media_inputs.h"

#if OMNIRM_WITH_MEDIA
#include "omnirm/media/media_cache.h"
#include "omnirm/media/tower_inputs.h"
#endif

namespace omnirm::infer {

MediaDecoder::MediaDecoder(const Config& config, const media::MediaLimits& limits)
    : config_(config) {
#if OMNIRM_WITH_MEDIA
  cache_ = std::make_shared<media::MediaCache>(config.data.media_cache_mb << 20, limits);
#else
  (void)limits;
#endif
}

MediaDecoder::~MediaDecoder() = default;

std::string MediaDecoder::missing_adapter_key(const std::string& type) const {
  const ModelConfig& model = config_.model;
  switch (data::media_kind_of(type)) {
    case data::MediaKind::image:
    case data::MediaKind::video:
      return model.vision_layers > 0 ? "" : "model.vision_layers";
    case data::MediaKind::audio:
      return model.audio_layers > 0 ? "" : "model.audio_layers";
    case data::MediaKind::points:
      return model.point_layers > 0 ? "" : "model.point_layers";
  }
  return "";
}

data::MediaItem MediaDecoder::decode(const std::string& type, const std::string& path,
                                     int8_t segment) const {
  const data::MediaKind kind = data::media_kind_of(type);
  if (const std::string key = missing_adapter_key(type); !key.empty()) {
    throw UserError(
        fmt::format("{}: the model has no adapter for {} media; set {} > 0", path, type, key));
  }
#if OMNIRM_WITH_MEDIA
  const ModelConfig& m = config_.model;
  media::TowerInput input;
  switch (kind) {
    case data::MediaKind::image:
      input = media::image_tower_input(*cache_->image(path), int(m.image_size));
      break;
    case data::MediaKind::video: {
      media::VideoOptions options;
      options.max_fps = config_.data.video_fps;
      options.max_frames = int(config_.data.video_frames);
      options.max_side = int(m.image_size) * 2;
      input = media::video_tower_input(*cache_->video(path, options), int(m.image_size),
                                       int(config_.data.video_frames), path);
      break;
    }
    case data::MediaKind::audio: {
      media::LogMelOptions options;
      options.n_mels = int(m.mel_bins);
      input = media::audio_tower_input(*cache_->log_mel(path, options), int(m.audio_frames));
      break;
    }
    case data::MediaKind::points: {
      media::PointCloudOptions options;
      options.num_points = int(m.num_points);
      input =
          media::point_tower_input(*cache_->point_cloud(path, options), int(m.num_points), path);
      break;
    }
  }
  data::MediaItem item;
  item.kind = kind;
  item.segment = segment;
  item.shape = std::move(input.shape);
  item.values = std::make_shared<const std::vector<float>>(std::move(input.values));
  return item;
#else
  (void)kind;
  (void)segment;
  throw UserError(path +
                  ": this build has no media decoding (GPU build profile); use a full build for "
                  "media");
#endif
}

bool media_decoding_available() { return OMNIRM_WITH_MEDIA != 0; }

std::optional<data::MediaLayout> media_layout_for(const Config& config,
                                                  const text::Tokenizer& tokenizer) {
  const ModelConfig& m = config.model;
  if (m.vision_layers == 0 && m.audio_layers == 0 && m.point_layers == 0) return std::nullopt;
  const model::MediaTokenCounts counts = model::media_token_counts(m);
  return data::MediaLayout::of(
      tokenizer, counts.image,
      counts.video_frame * (config.data.video_frames / m.video_temporal_patch), counts.audio,
      counts.points);
}

MediaSetup make_media_setup(const Config& config, const text::Tokenizer& tokenizer) {
  MediaSetup setup;
  setup.layout = media_layout_for(config, tokenizer);
  auto decoder = std::make_shared<const MediaDecoder>(config);
  setup.hook = [decoder](const data::Example& example, data::EncodedPair& pair) {
    pair.media_items.clear();
    for (const data::MediaRef& ref : pair.media) {
      const std::string where = fmt::format("record {} / {}", example.id, ref.path);
      try {
        pair.media_items.push_back(decoder->decode(ref.type, ref.path, ref.segment));
      } catch (const UserError& error) {
        throw UserError(fmt::format("record {} / {}", example.id, error.what()));
      } catch (const std::exception& error) {
        throw UserError(fmt::format("{}: {}; check the file", where, error.what()));
      }
    }
  };
  return setup;
}

}  // namespace omnirm::infer
