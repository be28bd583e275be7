// Implementation of train/media_hook.h.
#include "omnirm/train/media_hook.h"

#include <fmt/format.h>

#include <exception>
#include <memory>

#include "omnirm/core/error.h"
#include "omnirm/data/media_store.h"
#include "omnirm/model/media_inputs.h"

#if OMNIRM_WITH_MEDIA
#include "omnirm/media/image_slices.h"
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

// model.arch minicpmo: MiniCPM-o's slicing of an image (the plugin's 768² area cap included).
media::SliceOptions minicpmo_slicing(const ModelConfig& m) {
  media::SliceOptions options;
  options.max_slices = static_cast<int>(m.slice_max);
  options.resolution = static_cast<int>(m.slice_resolution);
  options.patch = static_cast<int>(m.patch_size);
  return options;
}

// model.arch minicpmo: LLaMA-Factory's video sampling (linspace over the declared frames), the
// frames at their decoded size; the plugin's cap and the processor's resize follow per frame.
media::VideoOptions minicpmo_video(const Config& config) {
  media::VideoOptions options;
  options.max_fps = config.data.video_fps;
  options.max_frames = static_cast<int>(config.data.video_frames);
  options.max_side = 0;
  options.sampling = media::VideoSampling::plugin_linspace;
  return options;
}

// A video frame is an image to MiniCPM-V's processor, with the plugin's max_slice_nums 2 and
// its video area cap.
media::SliceOptions minicpmo_frame_slicing(const Config& config) {
  media::SliceOptions options = minicpmo_slicing(config.model);
  options.max_slices = 2;
  options.max_pixels = config.data.video_max_pixels;
  return options;
}

// `part.path` is joined to the media root already (data::encode_pair does it).
data::MinicpmoPartShape minicpmo_shape(media::MediaCache& cache, const Config& config,
                                       const data::ContentPart& part) {
  const std::string& path = part.path;
  data::MinicpmoPartShape shape;
  if (part.type == "image" || part.type == "views") {
    const media::Image& image = *cache.image(path);
    const media::SliceOptions options = minicpmo_slicing(config.model);
    const auto [width, height] = media::capped_size(image.width, image.height, options.max_pixels);
    const media::SlicePlan plan = media::plan_slices(width, height, options);
    shape.grids.push_back({plan.grid_cols, plan.grid_rows});
  } else if (part.type == "video") {
    const media::SliceOptions options = minicpmo_frame_slicing(config);
    for (const media::VideoFrame& frame : cache.video(path, minicpmo_video(config))->frames) {
      const auto [width, height] =
          media::capped_size(frame.image.width, frame.image.height, options.max_pixels);
      const media::SlicePlan plan = media::plan_slices(width, height, options);
      // The plugin lays a video out as one placeholder per slice, each with a frame's layout:
      // a frame cut into slices has no consistent layout there, so it is refused, not guessed.
      if (plan.grid_cols > 0) {
        throw UserError(fmt::format(
            "{}: a {}x{} frame (after data.video_max_pixels {}) would be cut into slices at "
            "model.slice_resolution {}, which LLaMA-Factory's video layout cannot express; set "
            "data.video_max_pixels to at most {}",
            path, width, height, options.max_pixels, options.resolution,
            int64_t(options.resolution) * options.resolution));
      }
      shape.grids.push_back({0, 0});
    }
  } else if (part.type == "audio") {
    shape.audio_samples = static_cast<int64_t>(cache.audio(path)->samples.size());
  } else {
    throw UserError(path +
                    ": the MiniCPM-o path takes images, videos and audio (MiniCPM-o has "
                    "no encoder for " +
                    part.type + " parts); remove the part or render it as images");
  }
  return shape;
}

// The items of one media part for the minicpmo towers: each slice of an image as patches, each
// 30 s chunk of audio as its Whisper features.
void append_minicpmo_items(media::MediaCache& cache, const Config& config,
                           const data::MediaRef& ref, std::vector<data::MediaItem>& items) {
  const ModelConfig& m = config.model;
  auto add = [&](data::MediaKind kind, std::vector<int64_t> shape, std::vector<float> values,
                 std::vector<int64_t> grid) {
    data::MediaItem item;
    item.kind = kind;
    item.segment = ref.segment;
    item.shape = std::move(shape);
    item.values = std::make_shared<const std::vector<float>>(std::move(values));
    item.grid = std::move(grid);
    items.push_back(std::move(item));
  };
  if (ref.type == "audio") {
    const std::vector<float>& samples = cache.audio(ref.path)->samples;
    const size_t window = 30 * 16000;
    for (size_t start = 0; start < samples.size(); start += window) {
      const std::vector<float> chunk(
          samples.begin() + static_cast<std::ptrdiff_t>(start),
          samples.begin() + static_cast<std::ptrdiff_t>(std::min(samples.size(), start + window)));
      media::LogMelOptions options;
      options.n_mels = static_cast<int>(m.mel_bins);
      media::LogMel mel = media::whisper_window_log_mel(chunk, options);
      add(data::MediaKind::audio, {mel.n_mels, mel.num_frames}, std::move(mel.values), {});
    }
    return;
  }
  const int64_t p = m.patch_size;
  auto add_slices = [&](data::MediaKind kind, const media::ImageSlices& slices) {
    for (size_t s = 0; s < slices.values.size(); ++s) {
      const int64_t h = slices.shapes[s][1] / p, w = slices.shapes[s][2] / p;
      // [3, h·p, w·p] → [h·w, 3·p·p], each patch flattened channel-major (model::image_patches).
      std::vector<float> patches(static_cast<size_t>(h * w * 3 * p * p));
      const std::vector<float>& v = slices.values[s];
      size_t out = 0;
      for (int64_t r = 0; r < h; ++r)
        for (int64_t c = 0; c < w; ++c)
          for (int64_t ch = 0; ch < 3; ++ch)
            for (int64_t y = 0; y < p; ++y)
              for (int64_t x = 0; x < p; ++x)
                patches[out++] =
                    v[static_cast<size_t>((ch * h * p + r * p + y) * w * p + c * p + x)];
      add(kind, {h * w, 3 * p * p}, std::move(patches), {h, w});
    }
  };
  if (ref.type == "video") {
    // Each sampled frame an unsliced image (minicpmo_shape refused frames that would be cut).
    const media::SliceOptions options = minicpmo_frame_slicing(config);
    for (const media::VideoFrame& frame : cache.video(ref.path, minicpmo_video(config))->frames)
      add_slices(data::MediaKind::video, media::slice_image(frame.image, options));
    return;
  }
  add_slices(data::MediaKind::image,
             media::slice_image(*cache.image(ref.path), minicpmo_slicing(m)));
}
#endif

}  // namespace

bool media_decoding_available() { return OMNIRM_WITH_MEDIA != 0; }

MediaSetup make_media_setup(const Config& config, const text::Tokenizer& tokenizer) {
  MediaSetup setup;
  const ModelConfig& m = config.model;
  const bool minicpmo = m.arch == "minicpmo";
  if (minicpmo && (m.vision_layers > 0 || m.audio_layers > 0)) {
    data::MediaLayout layout;
    layout.minicpmo = true;
    layout.minicpmo_ids = {
        tokenizer.piece_id("<unk>"),        tokenizer.piece_id("<image>"),
        tokenizer.piece_id("</image>"),     tokenizer.piece_id("<slice>"),
        tokenizer.piece_id("</slice>"),     tokenizer.piece_id("<|audio_start|>"),
        tokenizer.piece_id("<|audio_end|>")};
    setup.layout = layout;
  } else if (m.vision_layers > 0 || m.audio_layers > 0 || m.point_layers > 0) {
    const model::MediaTokenCounts counts = model::media_token_counts(m);
    setup.layout = data::MediaLayout::of(
        tokenizer, counts.image,
        counts.video_frame * (config.data.video_frames / m.video_temporal_patch), counts.audio,
        counts.points);
  }
#if OMNIRM_WITH_MEDIA
  auto cache = std::make_shared<media::MediaCache>(config.data.media_cache_mb << 20);
  if (minicpmo) {
    data::MinicpmoLayoutOptions options;
    options.query_num = m.image_tokens;
    options.chunk_seconds = m.audio_chunk_seconds;
    options.shape = [cache, config](const data::ContentPart& part) {
      return minicpmo_shape(*cache, config, part);
    };
    setup.minicpmo = std::move(options);
  }
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
        // The MiniCPM-o path decodes its media itself (slices and chunks, several items per
        // file); the store holds the single tower inputs of omnirm's own towers.
        if (minicpmo) {
#if OMNIRM_WITH_MEDIA
          append_minicpmo_items(*cache, config, ref, pair.media_items);
          continue;
#else
          throw UserError(where +
                          ": the MiniCPM-o path decodes its media itself and this build has no "
                          "media decoding (GPU build profile); train it with a full build");
#endif
        }
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
