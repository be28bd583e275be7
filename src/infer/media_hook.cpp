// Implementation of infer/media_hook.h.
#include "omnirm/infer/media_hook.h"

#include <fmt/format.h>

#include <algorithm>
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

namespace omnirm::infer {

namespace {

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
// The tower input of a file for omnirm's own towers.
data::MediaItem decode_file(media::MediaCache& cache, const Config& config, data::MediaKind kind,
                            const std::string& path, int8_t segment) {
  const ModelConfig& m = config.model;
  media::TowerInput input;
  switch (kind) {
    case data::MediaKind::image:
      input = media::image_tower_input(*cache.image(path), int(m.image_size));
      break;
    case data::MediaKind::video: {
      media::VideoOptions options;
      options.max_fps = config.data.video_fps;
      options.max_frames = int(config.data.video_frames);
      options.max_side = int(m.image_size) * 2;
      input = media::video_tower_input(*cache.video(path, options), int(m.image_size),
                                       int(config.data.video_frames), path);
      break;
    }
    case data::MediaKind::audio: {
      media::LogMelOptions options;
      options.n_mels = int(m.mel_bins);
      input = media::audio_tower_input(*cache.log_mel(path, options), int(m.audio_frames));
      break;
    }
    case data::MediaKind::points: {
      media::PointCloudOptions options;
      options.num_points = int(m.num_points);
      input = media::point_tower_input(*cache.point_cloud(path, options), int(m.num_points), path);
      break;
    }
  }
  data::MediaItem item;
  item.kind = kind;
  item.segment = segment;
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
// frames at their decoded size and converted to RGB as PyAV converts them; the plugin's cap and
// the processor's resize follow per frame.
media::VideoOptions minicpmo_video(const Config& config) {
  media::VideoOptions options;
  options.max_fps = config.data.video_fps;
  options.max_frames = static_cast<int>(config.data.video_frames);
  options.max_side = 0;
  options.sampling = media::VideoSampling::plugin_linspace;
  options.rgb = media::VideoRgb::pyav;  // the plugin's frames come from PyAV's to_image
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

// The shape of a media part for MiniCPM-o's layout; `part.path` is joined to the media root
// already (data::encode_pair does it).
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
#endif

}  // namespace

MediaDecoder::MediaDecoder(const Config& config, const media::MediaLimits& limits)
    : config_(config) {
#if OMNIRM_WITH_MEDIA
  cache_ = std::make_shared<media::MediaCache>(config.data.media_cache_mb << 20, limits);
#else
  (void)limits;
#endif
  if (!config.data.media_store.empty()) {
    store_ = std::make_shared<data::MediaStore>(config.data.media_store);
  }
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
  std::string store_key;
  if (store_) {
    store_key = data::MediaStore::key_of(path, kind, decode_settings(config_, kind));
    if (std::optional<data::MediaItem> stored = store_->find(store_key)) {
      stored->segment = segment;
      return std::move(*stored);
    }
  }
#if OMNIRM_WITH_MEDIA
  data::MediaItem item = decode_file(*cache_, config_, kind, path, segment);
  if (store_) store_->put(store_key, item);
  return item;
#else
  throw UserError(store_ ? fmt::format("{}: not in data.media_store {} and this build has no "
                                       "media decoding (GPU build profile); fill the store by "
                                       "running the same config once on a full build",
                                       path, store_->directory())
                         : path +
                               ": this build has no media decoding (GPU build profile); use a "
                               "full build for media, or give data.media_store a store a full "
                               "build has filled");
#endif
}

void MediaDecoder::decode_minicpmo(const std::string& type, const std::string& path, int8_t segment,
                                   std::vector<data::MediaItem>& items) const {
  if (const std::string key = missing_adapter_key(type); !key.empty()) {
    throw UserError(
        fmt::format("{}: the model has no adapter for {} media; set {} > 0", path, type, key));
  }
#if OMNIRM_WITH_MEDIA
  const ModelConfig& m = config_.model;
  auto add = [&](data::MediaKind kind, std::vector<int64_t> shape, std::vector<float> values,
                 std::vector<int64_t> grid) {
    data::MediaItem item;
    item.kind = kind;
    item.segment = segment;
    item.shape = std::move(shape);
    item.values = std::make_shared<const std::vector<float>>(std::move(values));
    item.grid = std::move(grid);
    items.push_back(std::move(item));
  };
  if (type == "audio") {
    const std::vector<float>& samples = cache_->audio(path)->samples;
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
  if (type != "image" && type != "views" && type != "video") {
    throw UserError(path +
                    ": the MiniCPM-o path takes images, videos and audio (MiniCPM-o has no "
                    "encoder for " +
                    type + " parts); remove the part or render it as images");
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
  if (type == "video") {
    // Each sampled frame an unsliced image (minicpmo_shape refused frames that would be cut).
    const media::SliceOptions options = minicpmo_frame_slicing(config_);
    for (const media::VideoFrame& frame : cache_->video(path, minicpmo_video(config_))->frames)
      add_slices(data::MediaKind::video, media::slice_image(frame.image, options));
    return;
  }
  add_slices(data::MediaKind::image, media::slice_image(*cache_->image(path), minicpmo_slicing(m)));
#else
  (void)segment;
  (void)items;
  throw UserError(path +
                  ": the MiniCPM-o path decodes its media itself and this build has no media "
                  "decoding (GPU build profile); use a full build");
#endif
}

std::optional<data::MinicpmoLayoutOptions> MediaDecoder::minicpmo_layout() const {
#if OMNIRM_WITH_MEDIA
  const ModelConfig& m = config_.model;
  if (m.arch != "minicpmo") return std::nullopt;
  data::MinicpmoLayoutOptions options;
  options.query_num = m.image_tokens;
  options.chunk_seconds = m.audio_chunk_seconds;
  auto cache = cache_;
  const Config config = config_;
  options.shape = [cache, config](const data::ContentPart& part) {
    return minicpmo_shape(*cache, config, part);
  };
  return options;
#else
  return std::nullopt;
#endif
}

bool media_decoding_available() { return OMNIRM_WITH_MEDIA != 0; }

std::optional<data::MediaLayout> media_layout_for(const Config& config,
                                                  const text::Tokenizer& tokenizer) {
  const ModelConfig& m = config.model;
  if (m.arch == "minicpmo") {
    if (m.vision_layers == 0 && m.audio_layers == 0) return std::nullopt;
    data::MediaLayout layout;
    layout.minicpmo = true;
    layout.minicpmo_ids = {
        tokenizer.piece_id("<unk>"),        tokenizer.piece_id("<image>"),
        tokenizer.piece_id("</image>"),     tokenizer.piece_id("<slice>"),
        tokenizer.piece_id("</slice>"),     tokenizer.piece_id("<|audio_start|>"),
        tokenizer.piece_id("<|audio_end|>")};
    return layout;
  }
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
  setup.minicpmo = decoder->minicpmo_layout();
  const bool minicpmo = config.model.arch == "minicpmo";
  setup.hook = [decoder, minicpmo](const data::Example& example, data::EncodedPair& pair) {
    pair.media_items.clear();
    for (const data::MediaRef& ref : pair.media) {
      const std::string where = fmt::format("record {} / {}", example.id, ref.path);
      try {
        if (minicpmo) {
          decoder->decode_minicpmo(ref.type, ref.path, ref.segment, pair.media_items);
        } else {
          pair.media_items.push_back(decoder->decode(ref.type, ref.path, ref.segment));
        }
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
