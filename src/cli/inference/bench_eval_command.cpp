// `omnirm bench eval`: evaluation pairs/s of a trained model with prefix sharing on and off,
// side by side on the same pairs (infer/bench_eval.h).
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/infer/bench_eval.h"

namespace omnirm::cli {

void add_bench_eval_command(CLI::App& bench) {
  auto* eval = bench.add_subcommand(
      "eval", "Evaluation pairs/s of a trained model, prefix sharing on vs off");
  struct Options {
    std::string model, data;
    int64_t rounds = 3;
    int64_t batch_pairs = 0;
  };
  auto o = std::make_shared<Options>();
  eval->add_option("-m,--model", o->model, "Checkpoint directory or run output directory")
      ->required();
  eval->add_option("-d,--data", o->data, "Pair JSONL (default: the model's data.eval)");
  eval->add_option("--rounds", o->rounds, "Timed passes per layout, alternating; the best counts");
  eval->add_option("--batch-pairs", o->batch_pairs, "Pairs per forward pass");
  eval->callback([o] {
    const infer::BenchEvalResult result =
        infer::bench_eval(o->model, o->data, o->rounds, o->batch_pairs);
    fmt::print("bench eval: {} pairs of {}, best of {} rounds, {} threads\n", result.shared.pairs,
               result.data, o->rounds, at::get_num_threads());
    fmt::print("{}", infer::format_bench_eval(result));
  });
}

}  // namespace omnirm::cli
