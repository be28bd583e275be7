// Implementation of data/media_layout.h.
#include "omnirm/data/media_layout.h"

#include <algorithm>

#include "omnirm/core/error.h"

namespace omnirm::data {

namespace {

struct PartType {
  const char* type;
  const char* placeholder;
  MediaKind kind;
};

constexpr PartType kPartTypes[] = {{"image", "<image>", MediaKind::image},
                                   {"views", "<views>", MediaKind::image},
                                   {"video", "<video>", MediaKind::video},
                                   {"audio", "<audio>", MediaKind::audio},
                                   {"mesh", "<mesh>", MediaKind::points}};

const PartType& part_type(const std::string& type) {
  for (const PartType& known : kPartTypes) {
    if (type == known.type) return known;
  }
  throw UserError("content part type '" + type +
                  "' is not a media type; use image, views, video, audio or mesh");
}

}  // namespace

const std::string& placeholder_of(const std::string& part_type_name) {
  static const std::vector<std::string> placeholders = [] {
    std::vector<std::string> all;
    for (const PartType& known : kPartTypes) all.emplace_back(known.placeholder);
    return all;
  }();
  const PartType& known = part_type(part_type_name);
  return placeholders[static_cast<size_t>(&known - kPartTypes)];
}

MediaKind media_kind_of(const std::string& part_type_name) {
  return part_type(part_type_name).kind;
}

std::string render_parts(const std::vector<ContentPart>& parts) {
  std::string out;
  for (const ContentPart& part : parts) {
    if (part.type == "text") {
      out += part.text;
    } else {
      out += placeholder_of(part.type);
      out += '\n';
    }
  }
  return out;
}

MediaLayout MediaLayout::of(const text::Tokenizer& tokenizer, int64_t image_tokens,
                            int64_t video_tokens, int64_t audio_tokens, int64_t point_tokens) {
  MediaLayout layout;
  layout.image_id = tokenizer.piece_id("<image>");
  layout.video_id = tokenizer.piece_id("<video>");
  layout.audio_id = tokenizer.piece_id("<audio>");
  layout.mesh_id = tokenizer.piece_id("<mesh>");
  layout.views_id = tokenizer.piece_id("<views>");
  layout.image_tokens = image_tokens;
  layout.video_tokens = video_tokens;
  layout.audio_tokens = audio_tokens;
  layout.point_tokens = point_tokens;
  return layout;
}

int64_t MediaLayout::expansion(int32_t id) const {
  if (minicpmo) return id == minicpmo_ids.unk ? 1 : 0;
  if (id == image_id || id == views_id) return image_tokens;
  if (id == video_id) return video_tokens;
  if (id == audio_id) return audio_tokens;
  if (id == mesh_id) return point_tokens;
  return 0;
}

MediaKind MediaLayout::kind_of(int32_t id) const {
  if (id == video_id) return MediaKind::video;
  if (id == audio_id) return MediaKind::audio;
  if (id == mesh_id) return MediaKind::points;
  return MediaKind::image;
}

void expand_placeholders(std::vector<int32_t>& ids, const MediaLayout& layout) {
  const bool any =
      std::any_of(ids.begin(), ids.end(), [&](int32_t id) { return layout.expansion(id) > 0; });
  if (!any) return;
  std::vector<int32_t> expanded;
  expanded.reserve(ids.size());
  for (int32_t id : ids) {
    const int64_t copies = std::max<int64_t>(layout.expansion(id), 1);
    expanded.insert(expanded.end(), static_cast<size_t>(copies), id);
  }
  ids = std::move(expanded);
}

int64_t placeholder_tokens(const text::PairTokens& pair, const MediaLayout& layout) {
  int64_t count = 0;
  for (const auto* run : {&pair.prompt, &pair.chosen, &pair.rejected}) {
    for (int32_t id : *run) count += layout.expansion(id) > 0;
  }
  return count;
}

}  // namespace omnirm::data
