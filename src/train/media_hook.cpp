// Implementation of train/media_hook.h.
#include "omnirm/train/media_hook.h"

#include <fmt/format.h>

#include <exception>
#include <memory>

#include "omnirm/core/error.h"
#include "omnirm/data/media_store.h"
#include "omnirm/model/media_inputs.h"

#if OMNIRM_WITH_MEDIA
#include "omnirm/media/media_cache.h"
#include "omnirm/media/tower_inputs.h"
#endif

namespace omnirm::train {

namespace {

// The config key that adds the adapter for `kind`, when the model lacks it; "" when present.
std::string missing_adapter_key(const ModelConfig& model, data::MediaKind kind) {
  switch (kind) {
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

// Every setting a kind's decoded tower input depends on, for the media store's keys. "v1" names
// the decoders' behaviour: change it when a decoder's output changes for the same file.
std::string decode_settings(const Config& config, data::MediaKind kind) {
  const ModelConfig& m = config.model;
  switch (kind) {
    case data::MediaKind::image:
      return fmt::format("v1 size={}", m.image_size);
    case data::MediaKind::video:
      return fmt::format("v1 size={} fps={} frames={}", m.image_size, config.data.video_fps,
                         config.data.video_frames);
    case data::MediaKind::audio:
      return fmt::format("v1 mels={} frames={}", m.mel_bins, m.audio_frames);
    case data::MediaKind::points:
      return fmt::format("v1 points={}", m.num_points);
  }
  return "v1";
}

#if OMNIRM_WITH_MEDIA
data::MediaItem decode_item(media::MediaCache& cache, const Config& config,
                            const data::MediaRef& ref, data::MediaKind kind) {
  const ModelConfig& m = config.model;
  media::TowerInput input;
  switch (kind) {
    case data::MediaKind::image:
      input = media::image_tower_input(*cache.image(ref.path), int(m.image_size));
      break;
    case data::MediaKind::video: {
      media::VideoOptions options;
      options.max_fps = config.data.video_fps;
      options.max_frames = int(config.data.video_frames);
      options.max_side = int(m.image_size) * 2;
      input = media::video_tower_input(*cache.video(ref.path, options), int(m.image_size),
                                       int(config.data.video_frames), ref.path);
      break;
    }
    case data::MediaKind::audio: {
      media::LogMelOptions options;
      options.n_mels = int(m.mel_bins);
      input = media::audio_tower_input(*cache.log_mel(ref.path, options), int(m.audio_frames));
      break;
    }
    case data::MediaKind::points: {
      media::PointCloudOptions options;
      options.num_points = int(m.num_points);
      input = media::point_tower_input(*cache.point_cloud(ref.path, options), int(m.num_points),
                                       ref.path);
      break;
    }
  }
  data::MediaItem item;
  item.kind = kind;
  item.segment = ref.segment;
  item.shape = std::move(input.shape);
  item.values = std::make_shared<const std::vector<float>>(std::move(input.values));
  return item;
}
#endif

}  // namespace

bool media_decoding_available() { return OMNIRM_WITH_MEDIA != 0; }

MediaSetup make_media_setup(const Config& config, const text::Tokenizer& tokenizer) {
  MediaSetup setup;
  const ModelConfig& m = config.model;
  if (m.vision_layers > 0 || m.audio_layers > 0 || m.point_layers > 0) {
    const model::MediaTokenCounts counts = model::media_token_counts(m);
    setup.layout = data::MediaLayout::of(
        tokenizer, counts.image,
        counts.video_frame * (config.data.video_frames / m.video_temporal_patch), counts.audio,
        counts.points);
  }
#if OMNIRM_WITH_MEDIA
  auto cache = std::make_shared<media::MediaCache>(config.data.media_cache_mb << 20);
#endif
  std::shared_ptr<data::MediaStore> store;
  if (!config.data.media_store.empty()) {
    store = std::make_shared<data::MediaStore>(config.data.media_store);
  }
  setup.hook = [=](const data::Example& example, data::EncodedPair& pair) {
    pair.media_items.clear();
    for (const data::MediaRef& ref : pair.media) {
      const data::MediaKind kind = data::media_kind_of(ref.type);
      const std::string key = missing_adapter_key(m, kind);
      const std::string where = fmt::format("record {} / {}", example.id, ref.path);
      if (!key.empty()) {
        throw UserError(fmt::format("{}: the model has no adapter for {} media; set {} > 0", where,
                                    ref.type, key));
      }
      try {
        std::string store_key;
        if (store) {
          store_key = data::MediaStore::key_of(ref.path, kind, decode_settings(config, kind));
          if (std::optional<data::MediaItem> stored = store->find(store_key)) {
            stored->segment = ref.segment;
            pair.media_items.push_back(std::move(*stored));
            continue;
          }
        }
#if OMNIRM_WITH_MEDIA
        pair.media_items.push_back(decode_item(*cache, config, ref, kind));
        if (store) store->put(store_key, pair.media_items.back());
#else
        throw UserError(
            store ? fmt::format("{}: not in data.media_store {} and this build has no media "
                                "decoding (GPU build profile); fill the store by running the same "
                                "config once on a full build",
                                where, store->directory())
                  : where +
                        ": this build has no media decoding (GPU build profile); train on "
                        "media with a full build, or give data.media_store a store a full "
                        "build has filled");
#endif
      } catch (const UserError& error) {
        const std::string message = error.what();
        if (message.rfind("record ", 0) == 0) throw;
        throw UserError(fmt::format("record {} / {}", example.id, message));
      } catch (const std::exception& error) {
        throw UserError(fmt::format("{}: {}; check the file", where, error.what()));
      }
    }
  };
  return setup;
}

}  // namespace omnirm::train
