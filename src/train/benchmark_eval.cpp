// Implementation of train/benchmark_eval.h.
#include "omnirm/train/benchmark_eval.h"

#include <fmt/format.h>

#include "omnirm/train/evaluator.h"

namespace omnirm::train {

std::string LoadedBenchmark::summary_line() const {
  int64_t ties = 0;
  for (const EncodedPair& pair : dataset.pairs) ties += pair.tie;
  return fmt::format(
      "{} pairs ({} ties, {} bad records skipped, {} truncated, {} dropped as too long)",
      dataset.pairs.size(), ties, read.skipped + dataset.read.skipped, dataset.encode.truncated,
      dataset.encode.dropped);
}

LoadedBenchmark load_benchmark(data::SourceFormat format, const std::string& path,
                               const text::Tokenizer& tokenizer, const Config& config) {
  const data::OnBadRecord policy = data::parse_on_bad_record(config.data.on_bad_record);
  const data::BenchmarkData read = data::read_benchmark(format, path, policy);
  LoadedBenchmark bench;
  bench.format = format;
  bench.path = path;
  bench.read = read.summary;
  bench.dataset =
      encode_examples(read.examples, path, read.root, tokenizer, config, /*keep_ties=*/true);
  return bench;
}

BenchmarkOutcome summarize_benchmark(const std::string& benchmark,
                                     std::vector<eval::PairResult> results) {
  BenchmarkOutcome outcome;
  outcome.benchmark = benchmark;
  outcome.results = std::move(results);
  if (outcome.is_omni()) {
    outcome.omni = eval::score_benchmark(eval::to_scored_pairs(outcome.results));
    outcome.metrics = eval::bench_report_metrics(outcome.omni);
  } else {
    outcome.categories = eval::score_by_category(benchmark, outcome.results);
    outcome.metrics = eval::category_metrics(outcome.categories);
  }
  return outcome;
}

BenchmarkOutcome evaluate_benchmark(model::RewardModelImpl& model, const LoadedBenchmark& bench,
                                    int64_t batch_pairs, bool prefix_sharing, at::Device device) {
  const std::vector<PairScore> scores =
      score_dataset(model, bench.dataset, batch_pairs, prefix_sharing, device);
  std::vector<eval::PairResult> results;
  results.reserve(scores.size());
  for (const PairScore& s : scores) {
    results.push_back({s.id, s.task, s.chosen, s.rejected, s.tie ? 0 : 1,
                       s.tags.empty() ? std::string() : s.tags.front()});
  }
  return summarize_benchmark(bench.name(), std::move(results));
}

std::string BenchmarkOutcome::table() const {
  return is_omni() ? eval::report_table(omni) : eval::category_table(categories);
}

void BenchmarkOutcome::write(const std::string& dir, bool with_paper_reference) const {
  if (is_omni()) {
    eval::write_eval_outputs(dir, results, omni, with_paper_reference);
  } else {
    eval::write_category_outputs(dir, results, categories);
  }
}

}  // namespace omnirm::train
