// The token layout of MiniCPM-o's media, as LLaMA-Factory's MiniCPM-V plugin writes it into the
// text before tokenization (the minicpm_o template then renders the turns):
//   image k of a message:  <image_id>k</image_id><image> + Q <unk> + </image>, then, when it is
//                          sliced into cols x rows, the rows of (<slice> + Q <unk> + </slice>)
//                          x cols joined by "\n"; k counts the images of that message from 0;
//   a video's frames:      each frame <image> + Q <unk> + </image> (no image id), plus its
//                          slice rows when a frame is sliced (at most 2 slices per frame);
//   audio of n samples:    per started second of audio tokens, <|audio_start|> + up to
//                          25 <unk> + <|audio_end|> (the tokens of one second: 100 mel frames →
//                          50 encoder frames → 25 after pooling by 2);
// placeholders replace the media where they stand, with no newline added. The model's feature
// rows fill the <unk> slots in order (minicpmo_slots). Q is model.image_tokens (query_num).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "omnirm/data/example.h"

namespace omnirm::data {

// What the layout of one media part depends on (from its decoded size).
struct MinicpmoPartShape {
  // image: one (cols, rows) grid, 0 x 0 when it is not sliced; video: one per frame.
  std::vector<std::pair<int, int>> grids;
  int64_t audio_samples = 0;  // audio: samples at 16 kHz
};

// The shape of a media part of a record (decodes or probes the file); throws UserError.
using MinicpmoShapeLookup = std::function<MinicpmoPartShape(const ContentPart& part)>;

struct MinicpmoLayoutOptions {
  int64_t query_num = 64;      // model.image_tokens
  double chunk_seconds = 1.0;  // model.audio_chunk_seconds
  MinicpmoShapeLookup shape;
};

// The text of image `index` of a message, sliced into cols x rows (0 x 0: not sliced).
std::string minicpmo_image_text(int cols, int rows, int index, bool with_id, int64_t query_num);

// The text of a clip of `samples` samples (16 kHz, hop 160, pool step 2).
std::string minicpmo_audio_text(int64_t samples, double chunk_seconds);

// Audio tokens of a clip of `samples` samples: ((ceil(samples / 160) − 1) / 2 + 1 − 2) / 2 + 1.
int64_t minicpmo_audio_tokens(int64_t samples);

// One message's parts as the plugin renders them (text as it is, media as their layout).
std::string minicpmo_render_parts(const std::vector<ContentPart>& parts,
                                  const MinicpmoLayoutOptions& options);

// The <unk> rows the features fill, in token order: inside <image>…</image> and
// <slice>…</slice> (vision) and inside <|audio_start|>…<|audio_end|> (audio).
struct MinicpmoSlots {
  std::vector<int64_t> vision;
  std::vector<int64_t> audio;
};
struct MinicpmoTokenIds {
  int32_t unk = -1, image_start = -1, image_end = -1, slice_start = -1, slice_end = -1,
          audio_start = -1, audio_end = -1;
};
MinicpmoSlots minicpmo_slots(const std::vector<int32_t>& ids, const MinicpmoTokenIds& tokens,
                             int64_t offset = 0);

}  // namespace omnirm::data
