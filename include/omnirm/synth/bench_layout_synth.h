// A small generated benchmark in the Omni-RewardBench layout, for tests and demos of
// `omnirm eval --bench omni-rewardbench`: one file per task in the benchmark's own record
// layout (id, prompt, response1/response2 or their _path, criteria, criteria_preference,
// media fields), with real media files under media_data/, drawn by the synthetic task
// generators (eval split). Tasks alternate between a JSON array named in lower case
// (t2t.json) and JSONL named in upper case (TI2T.jsonl), so readers meet both. Every task has
// gold ties: two correct responses that differ only in an attribute the neutral criteria
// does not ask about (brief or detailed, larger or smaller, faster or slower, ...). The
// preferred response alternates between response1 and response2; t23d responses are
// multi-view render images, as in the benchmark.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace omnirm::synth {

struct BenchLayoutOptions {
  std::vector<std::string> tasks;  // names from omni_tasks(); empty or "all": every task
  int64_t pairs_per_task = 12;     // non-tie pairs per task
  int64_t ties_per_task = 3;       // gold ties per task
  uint64_t seed = 1234;
  int image_size = 32;  // side of images and video frames in pixels (even, 16..256)
};

// Writes out_dir/<task file> for each task, out_dir/media_data/... and out_dir/corpus.txt
// (the texts, for a tokenizer). Returns a one-line summary; throws UserError for an unknown
// task, negative counts or an unwritable directory.
std::string write_bench_layout(const BenchLayoutOptions& options, const std::string& out_dir);

}  // namespace omnirm::synth
