// The nine-task synthetic omni-modal preference set: t2t text pairs (from data::synthesize)
// plus image, video, audio and 3D pairs whose media files are drawn and encoded here.
//
// Every media task has two kinds of pairs:
//  - "content" pairs: the chosen response agrees with the prompt or the input medium (the
//    right colour and shape, motion direction, pitch and beep count, 3D primitive), the
//    rejected one does not;
//  - "criteria" pairs: both responses are correct and the free-form criteria decide (brief or
//    detailed answers, larger or smaller object, faster or slower motion, louder or quieter
//    tone, upright or lying model). Part of them come as "criteria_flip" twins: the same
//    prompt and responses under the opposite criteria, chosen and rejected swapped.
// Train and eval use disjoint content combinations (held-out colour+shape, colour+direction,
// pitch+beep count and primitive+proportion combinations, chosen from the seed) and separate
// media files. Media files are pooled: pairs that need the same content share one file.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace omnirm::synth {

// t2t ti2t tv2t ta2t t2i t2v t2a t23d ti2i (the Omni-RewardBench order).
const std::vector<std::string>& omni_tasks();

struct OmniSynthOptions {
  std::vector<std::string> tasks;  // names from omni_tasks(); "all" stands for every task
  int64_t train_pairs = 400;       // per task
  // Training pairs of single tasks, in place of train_pairs for those named (e.g. more pairs
  // of a task the model finds hard). Every name must be one of the generated tasks.
  std::map<std::string, int64_t> task_train_pairs;
  int64_t eval_pairs = 100;  // per task
  uint64_t seed = 1234;
  int image_size = 32;  // side of images and video frames in pixels (even, 16..256)
  // false: eval pairs are new pairs over new media files (other positions, timings, sizes and
  // orientations) drawn from the same content combinations as training; true: eval content
  // combinations (e.g. a colour with a shape) never occur in training, a test of
  // compositional generalization.
  bool hold_out_combinations = false;
};

// Writes out_dir/train.jsonl, eval.jsonl, corpus.txt (tokenizer corpus) and the media files
// under out_dir/media/ (records hold paths relative to out_dir). The same options give the
// same bytes in every file; files another run left under out_dir/media/ stay where they are.
// Returns a one-line summary. Throws omnirm::UserError for an unknown task, negative counts, a
// per-task count for a task not generated, a bad image size or an unwritable output directory.
std::string write_omni_synth(const OmniSynthOptions& options, const std::string& out_dir);

}  // namespace omnirm::synth
