// `omnirm bench train` and `omnirm bench memory`: training throughput with prefix sharing on
// and off, and peak memory per setting, side by side (`bench eval`, `bench dist` and
// `bench serve` register here too).
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/train/bench.h"
#include "omnirm/train/bench_memory.h"

namespace omnirm::cli {
namespace {

void add_bench_memory(CLI::App& bench) {
  auto* memory = bench.add_subcommand(
      "memory", "Peak memory per step: fp32 vs bf16, activation checkpointing off vs on");
  auto options = std::make_shared<ConfigOptions>();
  auto steps = std::make_shared<int64_t>(3);
  add_config_options(*memory, *options);
  memory->add_option("--steps", *steps, "Measured optimizer steps per setting");
  memory->callback([options, steps] {
    const Config config = load_config(options->path, options->overrides);
    const train::BenchMemoryResult result = train::bench_memory(config, *steps);
    fmt::print("bench memory: {} steps x {} pairs per setting, {} threads, CPU allocator bytes\n",
               *steps, config.train.global_batch_pairs, at::get_num_threads());
    fmt::print("{}", train::format_bench_memory(result));
  });
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks: train, eval, memory, dist, data, serve");
  bench->require_subcommand(1);
  auto* train =
      bench->add_subcommand("train", "Training pairs/s and tokens/s, prefix sharing on vs off");
  auto options = std::make_shared<ConfigOptions>();
  auto steps = std::make_shared<int64_t>(10);
  auto warmup = std::make_shared<int64_t>(2);
  auto rounds = std::make_shared<int64_t>(2);
  add_config_options(*train, *options);
  train->add_option("--steps", *steps, "Timed optimizer steps per layout and round");
  train->add_option("--warmup", *warmup, "Untimed steps first");
  train->add_option("--rounds", *rounds, "Rounds alternating the layouts; the best counts");
  train->callback([options, steps, warmup, rounds] {
    const Config config = load_config(options->path, options->overrides);
    const train::BenchTrainResult result = train::bench_train(config, *steps, *warmup, *rounds);
    fmt::print(
        "bench train: {} steps x {} pairs per layout, best of {} rounds, train.device {}, "
        "train.precision {}, {} threads\n",
        *steps, config.train.global_batch_pairs, *rounds, config.train.device,
        config.train.precision, at::get_num_threads());
    fmt::print("{}", train::format_bench_train(result));
  });
  add_bench_eval_command(*bench);
  add_bench_memory(*bench);
  add_bench_dist_command(*bench);
  add_bench_serve_command(*bench);
}

}  // namespace omnirm::cli
