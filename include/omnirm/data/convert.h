// Converting preference data from the layouts of other tools into canonical pair records
// (README "Data format", docs/data.md). Formats:
//   llamafactory      LLaMA-Factory sharegpt ranking (Omni-RewardData's layout)
//   omni-rewardbench  Omni-RewardBench per-task files
//   trl               TRL / OpenRLHF prompt/chosen/rejected, explicit or implicit prompt
//   vl-rewardbench    VL-RewardBench (query, response[2], human_ranking, image)
//   multimodal-rewardbench  Multimodal RewardBench (Text, Image, Output1/2, Better, Category)
//   rewardbench       RewardBench, text (prompt, chosen, rejected, subset)
// Input is a JSON array file or JSONL. Every output record passes parse_pair_record. A bad
// input record is reported as "file:line: field: what", the line being where the record
// starts (in a JSON array too); `error` stops at the first, `skip` drops and counts.
// The benchmark formats keep the record's category (VL-RewardBench's general /
// hallucination / reasoning, Multimodal RewardBench's Category, RewardBench's subset) as the
// example's only tag.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "omnirm/data/example.h"
#include "omnirm/data/jsonl_reader.h"

namespace omnirm::data {

enum class SourceFormat {
  llamafactory,
  omni_rewardbench,
  trl,
  vl_rewardbench,
  multimodal_rewardbench,
  rewardbench,
};

// "llamafactory" | "omni-rewardbench" | "trl" | "vl-rewardbench" | "multimodal-rewardbench" |
// "rewardbench"; throws UserError otherwise (`option` names the flag in the message).
SourceFormat parse_source_format(const std::string& name, const std::string& option = "--from");
std::string source_format_name(SourceFormat format);

// What a record converter needs besides the record.
struct ConvertContext {
  std::string origin;      // "file:line" or "file:[index]", for messages
  std::string default_id;  // used when the record has no id
  std::string task;        // forced task; empty: from the record (or, for the bench, the file)
  std::string root;        // media root: absolute media paths must lie inside it
  std::string media_dir;   // directory under root holding the media (omni-rewardbench:
                           // media_data); relative media paths get it as a prefix
};

// Converts one JSON record (text of one object). Throws UserError(origin + ": field: what").
Example convert_record(SourceFormat format, std::string_view json, const ConvertContext& context);

struct ConvertOptions {
  SourceFormat format = SourceFormat::llamafactory;
  std::string input;
  std::string output;
  std::string root;  // empty: the input file's directory
  std::string task;  // empty: inferred (llamafactory, trl) or from the file name (bench)
  std::string media_dir = "media_data";
  OnBadRecord on_bad_record = OnBadRecord::error;
  RecordUse use = RecordUse::training;  // the rules converted records are checked by
  // Appended to the message of a bad record under OnBadRecord::error.
  std::string bad_record_hint = "fix the record or pass --on-bad-record skip";
};

struct ConvertSummary {
  int64_t records = 0;  // input records seen
  int64_t written = 0;
  int64_t skipped = 0;
  std::map<std::string, int64_t> per_task;  // written records per task
  std::vector<std::string> problems;        // the first 100 skipped records' messages
};

// Converts `input` into the canonical JSONL `output` (written whole, then renamed into place).
ConvertSummary convert_file(const ConvertOptions& options);

// Converts every record of `options.input` and hands each checked example, in file order, to
// `sink`; `options.output` is not used. Bad records follow options.on_bad_record.
ConvertSummary convert_each(const ConvertOptions& options,
                            const std::function<void(Example&& example)>& sink);

// The task named by an Omni-RewardBench file name ("t2i.json", "T2I_test.jsonl",
// "text_to_image_preferences.json"); empty when the name has none.
std::string task_from_file_name(const std::string& path);

// A task name in any of those spellings ("T2I", "text_to_image", "t2i"); empty if unknown.
std::string normalize_task_name(const std::string& name);

}  // namespace omnirm::data
