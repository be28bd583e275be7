// RewardBench (text) records:
//   {"prompt": text, "chosen": text, "rejected": text, "subset": name, "id", ...}
// One user turn, the two responses as they are, task t2t; the subset (e.g. "alpacaeval-easy",
// "math-prm") is the example's tag, from which the benchmark's sections are scored.
#include "convert_support.h"

namespace omnirm::data::convert_detail {

Example convert_text_rewardbench(const Json& record, const ConvertContext& context) {
  if (!record.is_object()) fail(context, "record", "must be a JSON object");
  Example example;
  example.id = record_id(record, context);
  example.task = "t2t";
  Turn user{"user", {}};
  user.content.push_back(
      text_part(string_value(required_field(record, "prompt", context), "prompt", context)));
  example.prompt.push_back(std::move(user));
  example.chosen = {
      text_part(string_value(required_field(record, "chosen", context), "chosen", context))};
  example.rejected = {
      text_part(string_value(required_field(record, "rejected", context), "rejected", context))};
  const std::string subset =
      string_value(required_field(record, "subset", context), "subset", context);
  if (subset.empty()) fail(context, "subset", "must not be empty");
  example.tags = {subset};
  return example;
}

}  // namespace omnirm::data::convert_detail
