// `omnirm eval`: scores a held-out pair file with a trained model and prints the metrics, or,
// with --bench, a public benchmark in its own layout (data/benchmark.h) with its metrics.
// Every item is scored unless it cannot be (media that will not decode, a record too long for
// the length policy); those are listed, and the report states both denominators.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/eval/pair_metrics.h"
#include "omnirm/eval/report.h"
#include "omnirm/infer/benchmark_scoring.h"
#include "omnirm/infer/encoded_dataset.h"
#include "omnirm/infer/loaded_model.h"
#include "omnirm/infer/pair_scoring.h"
#include "omnirm/io/atomic_dir.h"

namespace omnirm::cli {
namespace {

struct EvalOptions {
  std::string model, data, json_out, out_dir, bench;
  bool paper_reference = false;
  int64_t batch_pairs = 0;
  bool no_prefix_sharing = false;
};

// Up to `limit` unscored items, one per line, for the console.
std::string unscored_lines(const eval::Coverage& coverage, size_t limit = 10) {
  std::string out;
  for (size_t i = 0; i < coverage.unscored.size() && i < limit; ++i) {
    const eval::UnscoredEntry& e = coverage.unscored[i];
    out +=
        fmt::format("  not scored: {}{}: {}\n", e.origin, e.id.empty() ? "" : " " + e.id, e.reason);
  }
  if (coverage.unscored.size() > limit) {
    out += fmt::format("  ... and {} more (--out writes them all to report.json)\n",
                       coverage.unscored.size() - limit);
  }
  return out;
}

// `omnirm eval --bench FORMAT --data PATH`: the benchmark's metrics, per task or category.
void run_benchmark_eval(const EvalOptions& o) {
  const data::SourceFormat format = data::parse_benchmark_format(o.bench, "--bench");
  if (o.data.empty()) throw UserError("eval --bench: give the benchmark's location with --data");
  infer::LoadedModel loaded = infer::load_model_dir(o.model);
  const infer::LoadedBenchmark bench =
      infer::load_benchmark(format, o.data, loaded.tokenizer, loaded.config);
  if (bench.dataset.pairs.empty()) {
    throw UserError("eval --bench: " + o.data + " gave no item that could be scored (" +
                    bench.summary_line() + "); check the files");
  }
  const int64_t batch = o.batch_pairs > 0 ? o.batch_pairs : loaded.config.eval.batch_pairs;
  const infer::BenchmarkOutcome outcome = infer::evaluate_benchmark(
      *loaded.model, bench, batch, !o.no_prefix_sharing, at::Device(at::kCPU));
  fmt::print("{} evaluation of {} on {}: {}\n{}", bench.name(), loaded.dir, o.data,
             bench.summary_line(), unscored_lines(outcome.coverage));
  fmt::print("{}\n{}",
             outcome.is_omni()
                 ? "benchmark metrics (accuracy %, tie threshold tuned per task; ho: held out):"
                 : "benchmark metrics (accuracy %):",
             outcome.table());
  if (!o.out_dir.empty()) {
    outcome.write(o.out_dir, o.paper_reference && outcome.is_omni());
    fmt::print("wrote {}/scores.jsonl, report.json, report.md, accuracy.png\n", o.out_dir);
  }
  if (!o.json_out.empty()) {
    nlohmann::json json(outcome.metrics);
    json["model"] = loaded.dir;
    json["data"] = o.data;
    json["benchmark"] = bench.name();
    io::write_file_atomic(o.json_out, json.dump(2) + "\n");
  }
}

// `omnirm eval [-d PAIRS]`: the pair metrics, and the benchmark metrics of the same scores.
void run_pair_eval(const EvalOptions& o) {
  infer::LoadedModel loaded = infer::load_model_dir(o.model);
  const std::string data = o.data.empty() ? loaded.config.data.eval : o.data;
  if (data.empty())
    throw UserError("eval: no --data given and the model's config has no data.eval");
  const infer::EncodedDataset dataset = infer::load_encoded_dataset(
      data, loaded.tokenizer, loaded.config, /*keep_ties=*/true, infer::DatasetUse::scoring);
  if (dataset.pairs.empty()) {
    throw UserError("eval: " + data + " gave no pair that could be scored (" +
                    dataset.summary_line() + "); check the file");
  }
  const int64_t batch = o.batch_pairs > 0 ? o.batch_pairs : loaded.config.eval.batch_pairs;
  const std::vector<eval::PairScore> scores =
      infer::score_pairs(*loaded.model, dataset, batch, !o.no_prefix_sharing, at::Device(at::kCPU));
  const eval::EvalMetrics m = eval::summarize_scores(scores);
  const eval::Coverage coverage = infer::coverage_of(dataset);
  fmt::print("evaluation of {} on {}: {}\n{}{}", loaded.dir, data, dataset.summary_line(),
             unscored_lines(coverage), eval::format_metrics_table(m));
  std::vector<eval::PairResult> results;
  for (const eval::PairScore& s : scores) {
    results.push_back({s.id, s.task, s.chosen, s.rejected, s.tie ? 0 : 1, ""});
  }
  const eval::BenchReport report = eval::score_benchmark(eval::to_scored_pairs(results));
  fmt::print(
      "benchmark metrics (accuracy %, tie threshold tuned per task; ho: held out):\n{}  {}\n",
      eval::report_table(report), eval::coverage_line(coverage));
  if (!o.out_dir.empty()) {
    eval::write_eval_outputs(o.out_dir, results, report, o.paper_reference, coverage);
    fmt::print("wrote {}/scores.jsonl, report.json, report.md, accuracy.png\n", o.out_dir);
  }
  if (!o.json_out.empty()) {
    nlohmann::json json = eval::metrics_json(m, "");
    json["model"] = loaded.dir;
    json["data"] = data;
    json["items"] = coverage.items;
    json["scored"] = coverage.scored;
    io::write_file_atomic(o.json_out, json.dump(2) + "\n");
  }
}

}  // namespace

void add_eval_command(CLI::App& app) {
  auto* command = app.add_subcommand("eval", "Evaluate a trained model on a pair file");
  auto o = std::make_shared<EvalOptions>();
  command
      ->add_option("-m,--model", o->model,
                   "Checkpoint directory, run output directory or export directory")
      ->required();
  command->add_option("-d,--data", o->data,
                      "Pair JSONL (default: the model's data.eval); with --bench, the "
                      "benchmark's directory or file");
  command->add_option("--bench", o->bench,
                      "Read --data as a benchmark in its own layout: omni-rewardbench, "
                      "vl-rewardbench, multimodal-rewardbench or rewardbench");
  command->add_option("--batch-pairs", o->batch_pairs,
                      "Pairs per forward pass (default: the model's eval.batch_pairs)");
  command->add_flag("--no-prefix-sharing", o->no_prefix_sharing,
                    "Score with the naive two-sequence layout");
  command->add_option("--json", o->json_out, "Also write the metrics as JSON to this file");
  command->add_option(
      "--out", o->out_dir,
      "Write scores.jsonl (every scored pair), report.json (metrics, both denominators and "
      "every item not scored), report.md and accuracy.png here");
  command->add_flag("--paper-reference", o->paper_reference,
                    "Show the paper's Omni-RewardModel-BT per-task figures beside the results");
  command->callback([o] {
    if (!o->bench.empty()) {
      run_benchmark_eval(*o);
    } else {
      run_pair_eval(*o);
    }
  });
}

}  // namespace omnirm::cli
