// VL-RewardBench records:
//   {"id", "query", "response": [first, second], "human_ranking": [rank of first, rank of
//    second], "image" | "image_path": path, "query_source" (optional), ...}
// A lower rank is better; the better response becomes chosen (equal ranks are refused: the
// benchmark has no ties). The prompt is one user turn: the image, then the query; the task
// is ti2t. The category (the example's tag) is the benchmark's own grouping: hallucination
// (POVID, RLAIF-V, RLHF-V), reasoning (MathVerse, MMMU-Pro) or general (VLFeedback,
// WildVision), read from query_source or, without it, from the id's prefix. Image paths are
// relative to the root (the data file's directory).
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

// The category named by a source ("RLAIF-V", "povid", "mathverse_...", "wildvision-battle").
std::string category_of_source(const std::string& source) {
  const std::string name = lower(source);
  for (const char* hallucination : {"povid", "rlaif", "rlhf"}) {
    if (name.starts_with(hallucination)) return "hallucination";
  }
  for (const char* reasoning : {"mathverse", "mmmu", "reasoning"}) {
    if (name.starts_with(reasoning)) return "reasoning";
  }
  return "general";
}

int64_t rank_value(const Json& value, size_t index, const ConvertContext& context) {
  const std::string field = "human_ranking[" + std::to_string(index) + "]";
  if (!value.is_number_integer()) {
    fail(context, field, "must be an integer rank, got " + json_type_name(value));
  }
  return value.get<int64_t>();
}

}  // namespace

Example convert_vl_rewardbench(const Json& record, const ConvertContext& context) {
  if (!record.is_object()) fail(context, "record", "must be a JSON object");
  Example example;
  example.id = record_id(record, context);
  example.task = "ti2t";

  const Json& responses = required_field(record, "response", context);
  if (!responses.is_array() || responses.size() != 2) {
    fail(context, "response", "must be an array of two responses");
  }
  const Json& ranking = required_field(record, "human_ranking", context);
  if (!ranking.is_array() || ranking.size() != 2) {
    fail(context, "human_ranking", "must be an array of two ranks, one per response");
  }
  const int64_t first_rank = rank_value(ranking[0], 0, context);
  const int64_t second_rank = rank_value(ranking[1], 1, context);
  if (first_rank == second_rank) {
    fail(context, "human_ranking",
         "both responses have rank " + std::to_string(first_rank) +
             "; one of them must rank better (lower)");
  }
  const size_t better = first_rank < second_rank ? 0 : 1;
  example.chosen = {text_part(
      string_value(responses[better], "response[" + std::to_string(better) + "]", context))};
  example.rejected = {text_part(string_value(
      responses[1 - better], "response[" + std::to_string(1 - better) + "]", context))};

  const std::string image_key = find_field(record, "image") != nullptr ? "image" : "image_path";
  const std::string image =
      string_value(required_field(record, image_key, context), image_key, context);
  Turn user{"user", {}};
  user.content.push_back(
      media_part("image", media_path(image, context.media_dir, image_key, context)));
  user.content.push_back(
      text_part(string_value(required_field(record, "query", context), "query", context)));
  example.prompt.push_back(std::move(user));

  const std::string source = optional_string(record, "query_source", context);
  example.tags = {category_of_source(source.empty() ? example.id : source)};
  return example;
}

}  // namespace omnirm::data::convert_detail
