// Reading a public reward-model benchmark in its own layout into canonical examples:
//   omni-rewardbench        DIR with one file per task (t2t.json, TI2T.jsonl, ...; the task
//                           from the file name, any case, JSON array or JSONL) and the media
//                           under DIR/media_data/
//   vl-rewardbench          a JSON array / JSONL file (or a directory holding exactly one),
//   multimodal-rewardbench  image paths relative to the file's directory (Multimodal
//   rewardbench             RewardBench: DIR/all_data.json with DIR/images/)
// Every record is converted as `omnirm data convert` converts it (data/convert.h): criteria
// in the system turn, the category as the example's tag; bad records are reported as
// "file:line: field: what" and follow the policy. Records are checked for scoring
// (RecordUse::scoring): a benchmark item whose two responses are the same is scored.
#pragma once

#include <string>
#include <vector>

#include "omnirm/data/convert.h"
#include "omnirm/data/example.h"
#include "omnirm/data/jsonl_reader.h"

namespace omnirm::data {

struct BenchmarkData {
  SourceFormat format = SourceFormat::omni_rewardbench;
  std::string root;                // media paths of the examples are relative to it
  std::vector<std::string> files;  // the files read, in reading order
  std::vector<Example> examples;   // file by file, in file order
  ConvertSummary summary;          // over all files
};

// The formats `--bench` accepts (all but the training layouts llamafactory and trl).
SourceFormat parse_benchmark_format(const std::string& name, const std::string& option);

// Under OnBadRecord::error the first bad record throws UserError("file:line: field: what;
// <hint>"), `hint` saying how to skip instead.
BenchmarkData read_benchmark(SourceFormat format, const std::string& path, OnBadRecord policy,
                             const std::string& hint =
                                 "fix the record or set "
                                 "data.on_bad_record: skip");

}  // namespace omnirm::data
