// Implementation of infer/benchmark_scoring.h.
#include "omnirm/infer/benchmark_scoring.h"

#include <fmt/format.h>

#include "omnirm/infer/pair_scoring.h"

namespace omnirm::infer {

eval::Coverage coverage_of(const EncodedDataset& dataset,
                           const std::vector<eval::UnscoredEntry>& extra, int64_t extra_items) {
  eval::Coverage coverage;
  coverage.items = dataset.items() + extra_items;
  coverage.scored = dataset.size();
  coverage.unscored = extra;
  coverage.unscored.insert(coverage.unscored.end(), dataset.unscored.begin(),
                           dataset.unscored.end());
  return coverage;
}

eval::Coverage LoadedBenchmark::coverage() const {
  // Records the converter refused were never examples; they count as items of the input.
  std::vector<eval::UnscoredEntry> refused;
  for (const std::string& problem : read.problems)
    refused.push_back(eval::unreadable_record(problem));
  return coverage_of(dataset, refused, read.skipped);
}

std::string LoadedBenchmark::summary_line() const {
  int64_t ties = 0;
  for (const EncodedPair& pair : dataset.pairs) ties += pair.tie;
  const eval::Coverage c = coverage();
  return fmt::format(
      "{} of {} items scored ({} ties, {} truncated; not scored: {} bad records, {} too long, {} "
      "with media that could not be decoded)",
      c.scored, c.items, ties, dataset.encode.truncated, read.skipped + dataset.read.skipped,
      dataset.too_long, dataset.undecodable);
}

LoadedBenchmark load_benchmark(data::SourceFormat format, const std::string& path,
                               const text::Tokenizer& tokenizer, const Config& config) {
  const data::OnBadRecord policy = data::parse_on_bad_record(config.data.on_bad_record);
  const data::BenchmarkData read = data::read_benchmark(format, path, policy);
  LoadedBenchmark bench;
  bench.format = format;
  bench.path = path;
  bench.read = read.summary;
  bench.dataset = encode_examples(read.examples, path, read.root, tokenizer, config,
                                  /*keep_ties=*/true, DatasetUse::scoring);
  return bench;
}

BenchmarkOutcome summarize_benchmark(const std::string& benchmark,
                                     std::vector<eval::PairResult> results,
                                     eval::Coverage coverage) {
  BenchmarkOutcome outcome;
  outcome.benchmark = benchmark;
  outcome.results = std::move(results);
  outcome.coverage = std::move(coverage);
  if (outcome.is_omni()) {
    outcome.omni = eval::score_benchmark(eval::to_scored_pairs(outcome.results));
    outcome.metrics = eval::bench_report_metrics(outcome.omni);
  } else {
    outcome.categories = eval::score_by_category(benchmark, outcome.results);
    outcome.metrics = eval::category_metrics(outcome.categories);
  }
  outcome.metrics["items"] = static_cast<double>(outcome.coverage.items);
  outcome.metrics["scored"] = static_cast<double>(outcome.coverage.scored);
  return outcome;
}

BenchmarkOutcome evaluate_benchmark(model::RewardModelImpl& model, const LoadedBenchmark& bench,
                                    int64_t batch_pairs, bool prefix_sharing, at::Device device) {
  const std::vector<eval::PairScore> scores =
      score_pairs(model, bench.dataset, batch_pairs, prefix_sharing, device);
  std::vector<eval::PairResult> results;
  results.reserve(scores.size());
  for (const eval::PairScore& s : scores) {
    results.push_back({s.id, s.task, s.chosen, s.rejected, s.tie ? 0 : 1,
                       s.tags.empty() ? std::string() : s.tags.front()});
  }
  return summarize_benchmark(bench.name(), std::move(results), bench.coverage());
}

std::string BenchmarkOutcome::table() const {
  return (is_omni() ? eval::report_table(omni) : eval::category_table(categories)) + "  " +
         eval::coverage_line(coverage) + "\n";
}

void BenchmarkOutcome::write(const std::string& dir, bool with_paper_reference) const {
  if (is_omni()) {
    eval::write_eval_outputs(dir, results, omni, with_paper_reference, coverage);
  } else {
    eval::write_category_outputs(dir, results, categories, coverage);
  }
}

}  // namespace omnirm::infer
