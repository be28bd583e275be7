// Media in the token stream. Each media part of a record is rendered as its placeholder
// token (<image>, <video>, <audio>, <mesh>, <views>) where it stands among the text, and each
// placeholder is expanded to the number of tokens its adapter produces, so the packed batch
// has one row per adapter output row. The decoded media of a pair travel beside its tokens as
// MediaItems, ready to become tower inputs.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "omnirm/data/example.h"
#include "omnirm/data/minicpmo_layout.h"
#include "omnirm/text/tokenizer.h"
#include "omnirm/text/truncation.h"

namespace omnirm::data {

// Which adapter an item feeds: images and multi-view renders share the vision tower, videos
// go through it frame by frame, meshes and point clouds feed the point tower.
enum class MediaKind : int8_t { image, video, audio, points };

// One decoded media part of a pair: float values in the tower's input layout.
struct MediaItem {
  MediaKind kind = MediaKind::image;
  int8_t segment = 0;          // the Segment (prompt, chosen, rejected) it belongs to
  std::vector<int64_t> shape;  // image [3,S,S], video [F,3,S,S], audio [mels,T], points [N,3]
  std::shared_ptr<const std::vector<float>> values;  // shared: one decode serves many pairs
  // model.arch minicpmo: an image slice or video frame is [h·w, 3·p·p] patches (row-major)
  // with grid {h, w}; an audio item is one 30 s chunk [mels, T]. Empty for omnirm's towers.
  std::vector<int64_t> grid;
};

// "<image>" for image parts, and so on; throws UserError for a type that is not media.
const std::string& placeholder_of(const std::string& part_type);
// The adapter a part type feeds: image|views → image, video, audio, mesh → points.
MediaKind media_kind_of(const std::string& part_type);

// Text parts as they are, each media part as its placeholder followed by a newline.
std::string render_parts(const std::vector<ContentPart>& parts);

// Placeholder ids of a tokenizer and the tokens each item occupies once expanded.
struct MediaLayout {
  int32_t image_id = -1, video_id = -1, audio_id = -1, mesh_id = -1, views_id = -1;
  int64_t image_tokens = 1;  // also for <views>
  int64_t video_tokens = 1;  // frames × tokens per frame
  int64_t audio_tokens = 1;
  int64_t point_tokens = 1;
  // model.arch minicpmo: media are laid out as text (data/minicpmo_layout.h); the <unk> rows
  // count as placeholder tokens (each its own expansion), `minicpmo_ids` find their slots.
  bool minicpmo = false;
  MinicpmoTokenIds minicpmo_ids;

  static MediaLayout of(const text::Tokenizer& tokenizer, int64_t image_tokens,
                        int64_t video_tokens, int64_t audio_tokens, int64_t point_tokens);
  // Tokens one placeholder becomes; 0 for an id that is no placeholder.
  int64_t expansion(int32_t id) const;
  // The adapter whose rows fill placeholder `id` (which must be one).
  MediaKind kind_of(int32_t id) const;
};

// Replaces every placeholder in `ids` by layout.expansion(id) copies of itself.
void expand_placeholders(std::vector<int32_t>& ids, const MediaLayout& layout);

// Placeholder tokens in each run; equal before and after fitting to the length budget
// unless the cut went through media, which makes the pair unusable.
int64_t placeholder_tokens(const text::PairTokens& pair, const MediaLayout& layout);

}  // namespace omnirm::data
