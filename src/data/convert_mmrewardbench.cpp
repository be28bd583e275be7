// Multimodal RewardBench records (data/all_data.json of the benchmark):
//   {"ID", "Text": prompt, "Image": path, "Output1", "Output2", "Better": "Output1" |
//    "Output2", "Category", ...}
// The better output becomes chosen. The prompt is one user turn: the image, then the text;
// the task is ti2t. The category (the example's tag) is "Category" (or "Meta"."Category"),
// with safety and reasoning split as the benchmark's accuracy script splits them:
// safety/bias (ids starting "pairs") or safety/toxicity, reasoning/math (ids starting
// "math") or reasoning/coding. Image paths are relative to the root (the directory holding
// all_data.json and images/).
#include <algorithm>
#include <cctype>

#include "convert_support.h"

namespace omnirm::data::convert_detail {
namespace {

std::string lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

std::string category_of(const Json& record, const std::string& id, const ConvertContext& context) {
  std::string category = optional_string(record, "Category", context);
  if (category.empty()) {
    if (const Json* meta = find_field(record, "Meta"); meta != nullptr && meta->is_object()) {
      category = optional_string(*meta, "Category", context);
    }
  }
  if (category.empty()) fail(context, "Category", "missing required field");
  category = lower(category);
  const std::string lower_id = lower(id);
  if (category == "safety")
    return lower_id.starts_with("pairs") ? "safety/bias" : "safety/toxicity";
  if (category == "reasoning") {
    return lower_id.starts_with("math") ? "reasoning/math" : "reasoning/coding";
  }
  return category;
}

}  // namespace

Example convert_multimodal_rewardbench(const Json& record, const ConvertContext& context) {
  if (!record.is_object()) fail(context, "record", "must be a JSON object");
  Example example;
  const Json* id = find_field(record, "ID");
  if (id == nullptr) {
    example.id = record_id(record, context);
  } else {
    example.id = id->is_number_integer() ? std::to_string(id->get<int64_t>())
                                         : string_value(*id, "ID", context);
    if (example.id.empty()) fail(context, "ID", "must not be empty");
  }
  example.task = "ti2t";
  const std::string better =
      string_value(required_field(record, "Better", context), "Better", context);
  if (better != "Output1" && better != "Output2") {
    fail(context, "Better", "'" + better + "' is not valid; use Output1 or Output2");
  }
  const std::string worse = better == "Output1" ? "Output2" : "Output1";
  example.chosen = {
      text_part(string_value(required_field(record, better, context), better, context))};
  example.rejected = {
      text_part(string_value(required_field(record, worse, context), worse, context))};

  const std::string image =
      string_value(required_field(record, "Image", context), "Image", context);
  Turn user{"user", {}};
  user.content.push_back(
      media_part("image", media_path(image, context.media_dir, "Image", context)));
  user.content.push_back(
      text_part(string_value(required_field(record, "Text", context), "Text", context)));
  example.prompt.push_back(std::move(user));
  example.tags = {category_of(record, example.id, context)};
  return example;
}

}  // namespace omnirm::data::convert_detail
