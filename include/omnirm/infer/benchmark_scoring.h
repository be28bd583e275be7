// Scoring a public benchmark, read in its own layout (data/benchmark.h), with a reward model,
// and its metrics: Omni-RewardBench's w/o Ties, w/ Ties and held-out-threshold accuracies
// per task and overall (eval/bench_metrics.h), or the per-category accuracies of
// VL-RewardBench, Multimodal RewardBench and RewardBench (eval/category_report.h).
// Used by `omnirm eval --bench` and by training (train.eval_benchmark).
//
// Every item is scored unless it truly cannot be: identical responses and ties are scored;
// an item whose media cannot be decoded, or that the length policy drops, is listed in the
// outcome's coverage with its reason, and the report states both denominators.
#pragma once

#include <ATen/Device.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "omnirm/core/config.h"
#include "omnirm/data/benchmark.h"
#include "omnirm/eval/bench_metrics.h"
#include "omnirm/eval/category_report.h"
#include "omnirm/eval/coverage.h"
#include "omnirm/eval/report.h"
#include "omnirm/infer/encoded_dataset.h"
#include "omnirm/model/reward_model.h"
#include "omnirm/text/tokenizer.h"

namespace omnirm::infer {

struct LoadedBenchmark {
  data::SourceFormat format = data::SourceFormat::omni_rewardbench;
  std::string path;
  EncodedDataset dataset;     // read for scoring: unscored items listed
  data::ConvertSummary read;  // records read, converted and skipped (all files together)

  std::string name() const { return data::source_format_name(format); }
  // Items in the benchmark files, those scored, and every item not scored.
  eval::Coverage coverage() const;
  // "N of M items scored (T ties; ...)".
  std::string summary_line() const;
};

// Reads and encodes the benchmark at `path` under the config's data.max_length,
// data.truncation, data.on_bad_record and media settings.
LoadedBenchmark load_benchmark(data::SourceFormat format, const std::string& path,
                               const text::Tokenizer& tokenizer, const Config& config);

struct BenchmarkOutcome {
  std::string benchmark;                  // the format's name
  std::vector<eval::PairResult> results;  // every scored pair: reward1 = chosen / first response
  eval::BenchReport omni;                 // omni-rewardbench only
  eval::CategoryReport categories;        // the other benchmarks
  eval::Coverage coverage;                // both denominators and the items not scored
  std::map<std::string, double> metrics;  // flat, for metrics.jsonl (without a prefix)

  bool is_omni() const { return benchmark == "omni-rewardbench"; }
  std::string table() const;  // the console table
  // Writes scores.jsonl, report.json, report.md and accuracy.png into `dir`.
  void write(const std::string& dir, bool with_paper_reference) const;
};

// Scores every pair in eval mode (batch_pairs per forward) and computes the metrics.
BenchmarkOutcome evaluate_benchmark(model::RewardModelImpl& model, const LoadedBenchmark& bench,
                                    int64_t batch_pairs, bool prefix_sharing, at::Device device);

// The results and metrics of already scored pairs (used by evaluate_benchmark); `coverage`
// is passed through to the outcome.
BenchmarkOutcome summarize_benchmark(const std::string& benchmark,
                                     std::vector<eval::PairResult> results,
                                     eval::Coverage coverage);

// The coverage of an encoded set read for scoring, `extra` unscored entries (records the
// reader skipped before encoding) added.
eval::Coverage coverage_of(const EncodedDataset& dataset,
                           const std::vector<eval::UnscoredEntry>& extra = {},
                           int64_t extra_items = 0);

}  // namespace omnirm::infer
