// Omni-RewardBench records:
//   {"id", "prompt", "response1", "response2", "model1", "model2", "criteria",
//    "criteria_preference": "response1" | "response2" | "tie", media fields}
// The preferred response becomes chosen; a tie keeps response1 as chosen with preference
// "tie". The prompt's media ("image"/"image_path", "video", "audio"/"audio_path") come
// before its text. For t2i, t23d, ti2i, t2a and t2v the responses are media paths
// ("response1_path"/"response2_path", or "response1"/"response2"). Media paths are relative
// to the benchmark's media directory (media_data/ under the root); model1/model2 are not kept.
#include "convert_support.h"

namespace omnirm::data::convert_detail {
namespace {

// The media type of the responses of a generation task; empty for text responses.
std::string response_media_type(const std::string& task) {
  if (task == "t2i" || task == "ti2i") return "image";
  if (task == "t2v") return "video";
  if (task == "t2a") return "audio";
  if (task == "t23d") return "views";
  return "";
}

// The prompt's media field for a task, trying each accepted key.
struct PromptMedia {
  std::string type;
  std::vector<std::string> keys;
};

PromptMedia prompt_media_of(const std::string& task) {
  if (task == "ti2t" || task == "ti2i") return {"image", {"image", "image_path"}};
  if (task == "tv2t") return {"video", {"video", "video_path"}};
  if (task == "ta2t") return {"audio", {"audio", "audio_path"}};
  return {};
}

std::vector<ContentPart> response_parts(const Json& record, int which, const std::string& task,
                                        const ConvertContext& context) {
  const std::string key = "response" + std::to_string(which);
  const std::string type = response_media_type(task);
  if (type.empty())
    return {text_part(string_value(required_field(record, key, context), key, context))};
  const std::string path_key = key + "_path";
  const std::string used_key = find_field(record, path_key) != nullptr ? path_key : key;
  const std::string raw =
      string_value(required_field(record, used_key, context), used_key, context);
  return {media_part(type, media_path(raw, context.media_dir, used_key, context))};
}

}  // namespace

Example convert_rewardbench(const Json& record, const ConvertContext& context) {
  if (!record.is_object()) fail(context, "record", "must be a JSON object");
  if (context.task.empty()) {
    fail(context, "task",
         "the file name names no task (t2t, ti2t, tv2t, ta2t, t2i, t2v, t2a, t23d, ti2i); "
         "pass --task");
  }
  Example example;
  example.id = record_id(record, context);
  example.task = context.task;
  example.criteria = optional_string(record, "criteria", context);

  Turn user{"user", {}};
  const PromptMedia media = prompt_media_of(context.task);
  if (!media.type.empty()) {
    const Json* value = nullptr;
    std::string used_key;
    for (const std::string& key : media.keys) {
      if ((value = find_field(record, key)) != nullptr) {
        used_key = key;
        break;
      }
    }
    if (value == nullptr) fail(context, media.keys.front(), "missing required field");
    user.content.push_back(media_part(
        media.type,
        media_path(string_value(*value, used_key, context), context.media_dir, used_key, context)));
  }
  user.content.push_back(
      text_part(string_value(required_field(record, "prompt", context), "prompt", context)));
  example.prompt.push_back(std::move(user));

  std::vector<ContentPart> first = response_parts(record, 1, context.task, context);
  std::vector<ContentPart> second = response_parts(record, 2, context.task, context);
  const std::string preference = string_value(
      required_field(record, "criteria_preference", context), "criteria_preference", context);
  if (preference == "response1" || preference == "tie") {
    example.chosen = std::move(first);
    example.rejected = std::move(second);
    if (preference == "tie") example.preference = Preference::tie;
  } else if (preference == "response2") {
    example.chosen = std::move(second);
    example.rejected = std::move(first);
  } else {
    fail(context, "criteria_preference",
         "'" + preference + "' is not valid; use response1, response2 or tie");
  }
  return example;
}

}  // namespace omnirm::data::convert_detail
