// LLaMA-Factory sharegpt ranking records (the layout of Omni-RewardData):
//   {"conversations": [{"from": "system"|"human"|"gpt", "value": ...}, ...],
//    "chosen": {"from": "gpt", "value": ...}, "rejected": {...},
//    "images": [...], "videos": [...], "audios": [...]}
// The system turn (or a top-level "system") becomes the criteria. "<image>", "<video>" and
// "<audio>" placeholders, in the order prompt turns, chosen, rejected, take the next item of
// their list and become media parts, the text split around them. Generation pairs whose
// responses hold no placeholder take the two media left after the prompt as [chosen,
// rejected]. Videos stored as frames (a nested list, or an "images" list serving <video>
// placeholders) become one video part whose path is the frames' common directory.
#include <filesystem>

#include "convert_support.h"

namespace omnirm::data::convert_detail {
namespace {

struct PlaceholderCounts {
  int64_t image = 0;
  int64_t video = 0;
  int64_t audio = 0;

  void add(const std::string& text) {
    image += occurrences(text, "<image>");
    video += occurrences(text, "<video>");
    audio += occurrences(text, "<audio>");
  }
  int64_t total() const { return image + video + audio; }

  static int64_t occurrences(const std::string& text, const std::string& needle) {
    int64_t count = 0;
    for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
      ++count;
    }
    return count;
  }
};

// The record's media lists and how far each has been consumed.
class MediaQueue {
 public:
  MediaQueue(const Json& record, const PlaceholderCounts& counts, const ConvertContext& context)
      : context_(context) {
    images_ = list(record, "images");
    videos_ = list(record, "videos");
    audios_ = list(record, "audios");
    // An "images" list serving <video> placeholders holds video frames.
    frames_in_images_ =
        videos_ == nullptr && images_ != nullptr && counts.image == 0 && counts.video > 0;
    if (frames_in_images_ && !images_->empty() && !(*images_)[0].is_array()) {
      if (images_->size() % static_cast<size_t>(counts.video) != 0) {
        fail(context_, "images",
             std::to_string(images_->size()) + " frames cannot be shared evenly by " +
                 std::to_string(counts.video) + " <video> placeholders");
      }
      frames_per_video_ = images_->size() / static_cast<size_t>(counts.video);
    }
  }

  ContentPart take(const std::string& kind) {
    if (kind == "image") return take_item(images_, image_next_, "images", "image");
    if (kind == "audio") return take_item(audios_, audio_next_, "audios", "audio");
    if (!frames_in_images_) return take_item(videos_, video_next_, "videos", "video");
    if (frames_per_video_ == 0) return take_item(images_, image_next_, "images", "video");
    // A flat frame list: the next frames_per_video_ entries are one video.
    if (images_ == nullptr || image_next_ + frames_per_video_ > images_->size()) {
      fail(context_, "images", "too few frames for the <video> placeholders");
    }
    Json frames = Json::array();
    for (size_t i = 0; i < frames_per_video_; ++i) frames.push_back((*images_)[image_next_ + i]);
    image_next_ += frames_per_video_;
    return video_from_frames(frames, "images");
  }

  // Generation pairs without placeholders in the responses: the two media left over.
  bool take_response_pair(ContentPart& chosen, ContentPart& rejected) {
    const size_t images_left = left(images_, image_next_);
    const size_t videos_left = left(videos_, video_next_);
    const size_t audios_left = left(audios_, audio_next_);
    if (images_left + videos_left + audios_left == 0) return false;
    if (videos_left == 2 && images_left + audios_left == 0) {
      chosen = take("video");
      rejected = take("video");
    } else if (audios_left == 2 && images_left + videos_left == 0) {
      chosen = take("audio");
      rejected = take("audio");
    } else if (images_left >= 2 && images_left % 2 == 0 && videos_left + audios_left == 0) {
      if (images_left == 2) {  // two images, or two nested frame lists
        chosen = take_item(images_, image_next_, "images", "image");
        rejected = take_item(images_, image_next_, "images", "image");
      } else {  // two videos stored as one flat list of frames, half each
        frames_in_images_ = true;
        frames_per_video_ = images_left / 2;
        chosen = take("video");
        rejected = take("video");
      }
    } else {
      fail(context_, "chosen",
           "holds no placeholder, and the media left after the prompt (" +
               std::to_string(images_left) + " images, " + std::to_string(videos_left) +
               " videos, " + std::to_string(audios_left) +
               " audios) are not one [chosen, rejected] pair");
    }
    return true;
  }

  void check_all_used() const {
    check_used(images_, image_next_, "images", "<image>");
    check_used(videos_, video_next_, "videos", "<video>");
    check_used(audios_, audio_next_, "audios", "<audio>");
  }

 private:
  const Json* list(const Json& record, const std::string& key) const {
    const Json* value = find_field(record, key);
    if (value != nullptr && !value->is_array()) {
      fail(context_, key, "must be an array of paths, got " + json_type_name(*value));
    }
    return value;
  }

  static size_t left(const Json* items, size_t next) {
    return items == nullptr ? 0 : items->size() - std::min(next, items->size());
  }

  ContentPart take_item(const Json* items, size_t& next, const std::string& key,
                        const std::string& type) {
    if (items == nullptr || next >= items->size()) {
      fail(context_, key,
           "has " + std::to_string(items == nullptr ? 0 : items->size()) +
               " entries, fewer than the <" + type + "> placeholders need");
    }
    const Json& item = (*items)[next];
    const std::string field = key + "[" + std::to_string(next) + "]";
    ++next;
    if (item.is_array()) return video_from_frames(item, field);
    if (type == "video" && key == "images") {
      fail(context_, field, "a <video> placeholder needs a list of frames here");
    }
    return media_part(type, media_path(string_value(item, field, context_), "", field, context_));
  }

  // A video stored as frames: its path is the directory all frames share.
  ContentPart video_from_frames(const Json& frames, const std::string& field) const {
    if (frames.empty()) fail(context_, field, "empty list of frames");
    std::string directory;
    for (size_t i = 0; i < frames.size(); ++i) {
      const std::string frame_field = field + "[" + std::to_string(i) + "]";
      const std::string frame =
          media_path(string_value(frames[i], frame_field, context_), "", frame_field, context_);
      const std::string parent = std::filesystem::path(frame).parent_path().generic_string();
      if (parent.empty()) {
        fail(context_, frame_field,
             "frames must lie in a directory of their own (the video part names it)");
      }
      if (i == 0) directory = parent;
      if (parent != directory) {
        fail(context_, frame_field,
             "frames of one video must share a directory ('" + directory + "' and '" + parent +
                 "')");
      }
    }
    return media_part("video", directory);
  }

  void check_used(const Json* items, size_t next, const std::string& key,
                  const std::string& placeholder) const {
    if (left(items, next) > 0) {
      fail(context_, key,
           std::to_string(items->size()) + " entries but only " + std::to_string(next) +
               " used by " + placeholder + " placeholders; add the placeholders to the text");
    }
  }

  const ConvertContext& context_;
  const Json* images_ = nullptr;
  const Json* videos_ = nullptr;
  const Json* audios_ = nullptr;
  size_t image_next_ = 0;
  size_t video_next_ = 0;
  size_t audio_next_ = 0;
  bool frames_in_images_ = false;
  size_t frames_per_video_ = 0;  // 0: images entries are nested frame lists
};

std::string response_value(const Json& record, const std::string& key,
                           const ConvertContext& context) {
  const Json& response = required_field(record, key, context);
  if (response.is_string()) return response.get<std::string>();
  if (!response.is_object()) {
    fail(context, key,
         "must be an object {\"from\": \"gpt\", \"value\": ...}, got " + json_type_name(response));
  }
  return string_value(required_field(response, "value", context), key + ".value", context);
}

}  // namespace

Example convert_llamafactory(const Json& record, const ConvertContext& context) {
  if (!record.is_object()) fail(context, "record", "must be a JSON object");
  Example example;
  example.id = record_id(record, context);
  example.criteria = optional_string(record, "system", context);

  const Json& conversations = required_field(record, "conversations", context);
  if (!conversations.is_array()) {
    fail(context, "conversations",
         "must be an array of turns, got " + json_type_name(conversations));
  }
  std::vector<std::pair<std::string, std::string>> turns;  // role, text
  PlaceholderCounts counts;
  for (size_t i = 0; i < conversations.size(); ++i) {
    const std::string field = "conversations[" + std::to_string(i) + "]";
    const Json& turn = conversations[i];
    if (!turn.is_object()) fail(context, field, "must be an object with from and value");
    const std::string from =
        string_value(required_field(turn, "from", context), field + ".from", context);
    const std::string value =
        string_value(required_field(turn, "value", context), field + ".value", context);
    if (from == "system") {
      if (i != 0 || !example.criteria.empty()) {
        fail(context, field, "a system turn may only come first, once");
      }
      example.criteria = value;
    } else if (from == "human" || from == "user") {
      turns.emplace_back("user", value);
    } else if (from == "gpt" || from == "assistant") {
      turns.emplace_back("assistant", value);
    } else {
      fail(context, field + ".from",
           "'" + from + "' turns are not supported; use system, human and gpt turns");
    }
    counts.add(value);
  }
  const std::string chosen = response_value(record, "chosen", context);
  const std::string rejected = response_value(record, "rejected", context);
  PlaceholderCounts response_counts;
  response_counts.add(chosen);
  response_counts.add(rejected);
  PlaceholderCounts all = counts;
  all.add(chosen);
  all.add(rejected);

  MediaQueue media(record, all, context);
  const auto take = [&](const std::string& kind) { return media.take(kind); };
  for (const auto& [role, text] : turns) {
    example.prompt.push_back(Turn{role, split_placeholders(text, take)});
  }
  ContentPart chosen_media;
  ContentPart rejected_media;
  if (response_counts.total() == 0 && media.take_response_pair(chosen_media, rejected_media)) {
    // A generation pair: the response text, if any, follows its media.
    example.chosen = {chosen_media};
    example.rejected = {rejected_media};
    if (!chosen.empty()) example.chosen.push_back(text_part(chosen));
    if (!rejected.empty()) example.rejected.push_back(text_part(rejected));
  } else {
    example.chosen = split_placeholders(chosen, take);
    example.rejected = split_placeholders(rejected, take);
  }
  media.check_all_used();

  example.task = resolve_task(example, context);
  return example;
}

}  // namespace omnirm::data::convert_detail
