// `omnirm bench train`: throughput with prefix sharing on and off, side by side.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "omnirm/cli/commands.h"
#include "omnirm/train/bench.h"

namespace omnirm::cli {

void add_bench_command(CLI::App& app) {
  auto* bench = app.add_subcommand("bench", "Benchmarks: train, dist");
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
    fmt::print("bench train: {} steps x {} pairs per layout, best of {} rounds, {} threads\n",
               *steps, config.train.global_batch_pairs, *rounds, at::get_num_threads());
    fmt::print("{}", train::format_bench_train(result));
  });
  add_bench_dist_command(*bench);
}

}  // namespace omnirm::cli
