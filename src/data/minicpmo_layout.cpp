// Implementation of data/minicpmo_layout.h.
#include "omnirm/data/minicpmo_layout.h"

#include <algorithm>
#include <cmath>

#include "omnirm/core/error.h"

namespace omnirm::data {
namespace {

std::string unks(int64_t count) {
  std::string out;
  out.reserve(static_cast<size_t>(count) * 5);
  for (int64_t i = 0; i < count; ++i) out += "<unk>";
  return out;
}

}  // namespace

std::string minicpmo_image_text(int cols, int rows, int index, bool with_id, int64_t query_num) {
  std::string out;
  if (with_id) out += "<image_id>" + std::to_string(index) + "</image_id>";
  out += "<image>" + unks(query_num) + "</image>";
  const std::string slice = "<slice>" + unks(query_num) + "</slice>";
  for (int r = 0; r < rows; ++r) {
    if (r > 0) out += "\n";
    for (int c = 0; c < cols; ++c) out += slice;
  }
  return out;
}

int64_t minicpmo_audio_tokens(int64_t samples) {
  const int64_t frames = (samples + 159) / 160;
  const int64_t encoder = (frames - 1) / 2 + 1;
  return (encoder - 2) / 2 + 1;
}

std::string minicpmo_audio_text(int64_t samples, double chunk_seconds) {
  // Tokens of one attention chunk: its mel frames through the stride-2 conv and pooling by 2.
  const auto chunk_frames = static_cast<int64_t>(chunk_seconds * 100);
  const int64_t per_chunk = (((chunk_frames - 1) / 2 + 1) - 2) / 2 + 1;
  const int64_t total = minicpmo_audio_tokens(samples);
  std::string out;
  for (int64_t done = 0; done < total; done += per_chunk)
    out += "<|audio_start|>" + unks(std::min(per_chunk, total - done)) + "<|audio_end|>";
  return out;
}

std::string minicpmo_render_parts(const std::vector<ContentPart>& parts,
                                  const MinicpmoLayoutOptions& options) {
  std::string out;
  int image_index = 0;
  for (const ContentPart& part : parts) {
    if (part.type == "text") {
      out += part.text;
      continue;
    }
    const MinicpmoPartShape shape = options.shape(part);
    if (part.type == "image" || part.type == "views") {
      if (shape.grids.size() != 1) throw UserError(part.path + ": an image has one slice grid");
      out += minicpmo_image_text(shape.grids[0].first, shape.grids[0].second, image_index++,
                                 /*with_id=*/true, options.query_num);
    } else if (part.type == "video") {
      for (const auto& [cols, rows] : shape.grids)
        out += minicpmo_image_text(cols, rows, 0, /*with_id=*/false, options.query_num);
    } else if (part.type == "audio") {
      out += minicpmo_audio_text(shape.audio_samples, options.chunk_seconds);
    } else {
      throw UserError(part.path + ": MiniCPM-o has no encoder for " + part.type +
                      " parts; give images, videos or audio");
    }
  }
  return out;
}

MinicpmoSlots minicpmo_slots(const std::vector<int32_t>& ids, const MinicpmoTokenIds& t,
                             int64_t offset) {
  MinicpmoSlots slots;
  enum { none, vision, audio } inside = none;
  for (size_t i = 0; i < ids.size(); ++i) {
    const int32_t id = ids[i];
    if (id == t.image_start || id == t.slice_start) {
      inside = vision;
    } else if (id == t.audio_start) {
      inside = audio;
    } else if (id == t.image_end || id == t.slice_end || id == t.audio_end) {
      inside = none;
    } else if (id == t.unk && inside != none) {
      (inside == vision ? slots.vision : slots.audio).push_back(offset + static_cast<int64_t>(i));
    }
  }
  return slots;
}

}  // namespace omnirm::data
