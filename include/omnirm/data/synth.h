// Deterministic synthetic preference data (the embedded default data of the demo).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "omnirm/data/example.h"

namespace omnirm::data {

struct SynthOptions {
  std::vector<std::string> tasks = {"t2t"};
  int64_t train_pairs = 4000;
  int64_t eval_pairs = 600;
  uint64_t seed = 1234;
};

struct SynthSet {
  std::vector<Example> train;
  std::vector<Example> eval;
  std::vector<std::string> tokenizer_corpus;  // plain-text lines covering the vocabulary
};

// Same options -> byte-identical output. Throws UserError for an unknown task.
SynthSet synthesize(const SynthOptions& options);

// Writes train.jsonl, eval.jsonl and corpus.txt into `out_dir` (created if missing).
void write_synth_set(const SynthSet& set, const std::string& out_dir);

}  // namespace omnirm::data
