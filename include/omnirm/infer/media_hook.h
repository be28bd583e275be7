// How records get their media, for training and scoring alike: the placeholder layout that
// matches the model's adapters, and a decoder that turns a media file into its tower input
// (data::MediaItem) through a content-keyed cache (a file shared by many pairs, or sent in
// many requests, is decoded once) and, with data.media_store, a store of decoded media on disk
// (data/media_store.h). The loader's hook decodes each pair's media on its worker threads; the
// reward server decodes each request's. Under model.arch minicpmo a file becomes several items
// (an image's slices, a video's sampled frames, an audio clip's 30 s chunks) and the layout is
// MiniCPM-o's.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/data/loader.h"
#include "omnirm/data/media_layout.h"
#include "omnirm/data/minicpmo_layout.h"
#include "omnirm/media/limits.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::media {
class MediaCache;
}

namespace omnirm::data {
class MediaStore;
}

namespace omnirm::infer {

// Decodes media files as the model's config asks (image_size, video_frames and video_fps,
// mel_bins and audio_frames, num_points), under `limits`, through one cache of
// data.media_cache_mb. Thread-safe.
class MediaDecoder {
 public:
  explicit MediaDecoder(const Config& config, const media::MediaLimits& limits = {});
  ~MediaDecoder();

  // The part of type `type` (image | views | video | audio | mesh) at `path` as the tower
  // input of its kind, belonging to `segment` of its row: from data.media_store when it holds
  // it, else decoded (and then stored). Throws UserError "<path>: what; what to do" for a
  // missing, damaged or over-limit file and for a kind the model has no adapter for (naming
  // the config key that adds it), or when this build has no media decoding (the GPU build
  // profile) and the store lacks the file.
  data::MediaItem decode(const std::string& type, const std::string& path, int8_t segment) const;

  // model.arch minicpmo: the items of one part, appended to `items` — each slice of an image
  // as its patches with its grid, each frame of a video (sampled by LLaMA-Factory's rule,
  // capped at data.video_max_pixels) as one unsliced image of kind video, each 30 s chunk of
  // audio as its Whisper features. Throws like decode(); the MiniCPM-o path always decodes (no
  // store).
  void decode_minicpmo(const std::string& type, const std::string& path, int8_t segment,
                       std::vector<data::MediaItem>& items) const;

  // model.arch minicpmo: the rendering options, whose shape lookup decodes through this
  // decoder's cache (nullopt for other models, or without media decoding).
  std::optional<data::MinicpmoLayoutOptions> minicpmo_layout() const;

  // The config key that adds the adapter for parts of `type` when the model lacks it ("" when
  // the model has it).
  std::string missing_adapter_key(const std::string& type) const;

 private:
  Config config_;
  std::shared_ptr<media::MediaCache> cache_;  // null without media decoding
  std::shared_ptr<data::MediaStore> store_;   // null without data.media_store
};

struct MediaSetup {
  std::optional<data::MediaLayout> layout;  // set when the model has any adapter
  data::MediaHook hook;                     // always set: refuses media the model cannot take
  // model.arch minicpmo: how prompts and responses are rendered (the media's shapes come from
  // the same cache the hook decodes through). Give it to the PairEncoder / LoaderOptions.
  std::optional<data::MinicpmoLayoutOptions> minicpmo;
};

// The placeholder layout of the config's adapters under `tokenizer`, when it has any.
std::optional<data::MediaLayout> media_layout_for(const Config& config,
                                                  const text::Tokenizer& tokenizer);

// A bad or missing file, or media of a kind the model has no adapter for, throws
// UserError "record <id> / <path>: what; what to do" from the hook.
MediaSetup make_media_setup(const Config& config, const text::Tokenizer& tokenizer);

// Whether this build decodes media files (the GPU build profile does not).
bool media_decoding_available();

}  // namespace omnirm::infer
