// `omnirm eval`: scores a held-out pair file with a trained model and prints the metrics, or,
// with --bench, a public benchmark in its own layout (data/benchmark.h) with its metrics.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/eval/report.h"
#include "omnirm/io/atomic_dir.h"
#include "omnirm/train/benchmark_eval.h"
#include "omnirm/train/checkpoint.h"
#include "omnirm/train/dataset.h"
#include "omnirm/train/evaluator.h"

namespace omnirm::cli {
namespace {

struct EvalOptions {
  std::string model, data, json_out, out_dir, bench;
  bool paper_reference = false;
  int64_t batch_pairs = 0;
  bool no_prefix_sharing = false;
};

// `omnirm eval --bench FORMAT --data PATH`: the benchmark's metrics, per task or category.
void run_benchmark_eval(const EvalOptions& o) {
  const data::SourceFormat format = data::parse_benchmark_format(o.bench, "--bench");
  if (o.data.empty()) throw UserError("eval --bench: give the benchmark's location with --data");
  train::LoadedModel loaded = train::load_model_dir(o.model);
  const train::LoadedBenchmark bench =
      train::load_benchmark(format, o.data, loaded.tokenizer, loaded.config);
  if (bench.dataset.pairs.empty()) {
    throw UserError("eval --bench: " + o.data + " gave no usable pair; check the files");
  }
  const int64_t batch = o.batch_pairs > 0 ? o.batch_pairs : loaded.config.eval.batch_pairs;
  const train::BenchmarkOutcome outcome = train::evaluate_benchmark(
      *loaded.model, bench, batch, !o.no_prefix_sharing, at::Device(at::kCPU));
  fmt::print("{} evaluation of {} on {}: {}\n", bench.name(), loaded.dir, o.data,
             bench.summary_line());
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

}  // namespace

void add_eval_command(CLI::App& app) {
  auto* command = app.add_subcommand("eval", "Evaluate a trained model on a pair file");
  auto o = std::make_shared<EvalOptions>();
  command->add_option("-m,--model", o->model, "Checkpoint directory or run output directory")
      ->required();
  command->add_option("-d,--data", o->data,
                      "Pair JSONL (default: the model's data.eval); with --bench, the "
                      "benchmark's directory or file");
  command->add_option("--bench", o->bench,
                      "Read --data as a benchmark in its own layout: omni-rewardbench, "
                      "vl-rewardbench, multimodal-rewardbench or rewardbench");
  command->add_option("--batch-pairs", o->batch_pairs, "Pairs per forward pass");
  command->add_flag("--no-prefix-sharing", o->no_prefix_sharing,
                    "Score with the naive two-sequence layout");
  command->add_option("--json", o->json_out, "Also write the metrics as JSON to this file");
  command->add_option(
      "--out", o->out_dir,
      "Write scores.jsonl (every pair), report.json, report.md and accuracy.png here");
  command->add_flag("--paper-reference", o->paper_reference,
                    "Show the paper's Omni-RewardModel-BT per-task figures beside the results");
  command->callback([o] {
    if (!o->bench.empty()) {
      run_benchmark_eval(*o);
      return;
    }
    train::LoadedModel loaded = train::load_model_dir(o->model);
    const std::string data = o->data.empty() ? loaded.config.data.eval : o->data;
    if (data.empty())
      throw UserError("eval: no --data given and the model's config has no data.eval");
    const train::EncodedDataset dataset =
        train::load_encoded_dataset(data, loaded.tokenizer, loaded.config, /*keep_ties=*/true);
    const int64_t batch = o->batch_pairs > 0 ? o->batch_pairs : loaded.config.eval.batch_pairs;
    const auto scores = train::score_dataset(*loaded.model, dataset, batch, !o->no_prefix_sharing,
                                             at::Device(at::kCPU));
    const train::EvalMetrics m = train::summarize_scores(scores);
    fmt::print("evaluation of {} on {}: {}\n{}", loaded.dir, data, dataset.summary_line(),
               train::format_metrics_table(m));
    std::vector<eval::PairResult> results;
    for (const train::PairScore& s : scores) {
      results.push_back({s.id, s.task, s.chosen, s.rejected, s.tie ? 0 : 1, ""});
    }
    const eval::BenchReport report = eval::score_benchmark(eval::to_scored_pairs(results));
    fmt::print("benchmark metrics (accuracy %, tie threshold tuned per task; ho: held out):\n{}",
               eval::report_table(report));
    if (!o->out_dir.empty()) {
      eval::write_eval_outputs(o->out_dir, results, report, o->paper_reference);
      fmt::print("wrote {}/scores.jsonl, report.json, report.md, accuracy.png\n", o->out_dir);
    }
    if (!o->json_out.empty()) {
      nlohmann::json json = train::metrics_json(m, "");
      json["model"] = loaded.dir;
      json["data"] = data;
      io::write_file_atomic(o->json_out, json.dump(2) + "\n");
    }
  });
}

}  // namespace omnirm::cli
