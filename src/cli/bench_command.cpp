// `omnirm bench train` and `omnirm bench memory`: training throughput with prefix sharing on
// and off, and peak memory per setting or per ZeRO stage, side by side (`bench eval`,
// `bench dist` and `bench serve` register here too).
#include <ATen/Parallel.h>
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include <unistd.h>

#include "omnirm/cli/commands.h"
#include "omnirm/core/error.h"
#include "omnirm/dist/launcher.h"
#include "omnirm/dist/world.h"
#include "omnirm/train/bench.h"
#include "omnirm/train/bench_memory.h"
#include "omnirm/train/bench_memory_ranks.h"

namespace omnirm::cli {
namespace {

struct BenchMemoryOptions {
  ConfigOptions config;
  int64_t steps = 3;
  int64_t nproc = 0;
  int64_t threads = 1;
  std::string report;  // set by the coordinating process for its ranks
};

// `bench memory --nproc N`: the ranks, started through the launcher, each write their figures
// to REPORT.rank-R; this process merges them, with rank 0's plan.
void run_memory_ranks(const BenchMemoryOptions& o, const Config& config) {
  if (dist::world_from_environment().distributed()) {
    at::set_num_threads(static_cast<int>(o.threads));
    const train::BenchMemoryRanks result = train::bench_memory_rank(config, o.steps);
    const std::string path =
        fmt::format("{}.rank-{}", o.report, dist::world_from_environment().rank);
    if (o.report.empty()) throw UserError("bench memory: a rank needs --report");
    std::ofstream out(path);
    out << to_json(result).dump(2) << "\n";
    if (!out) throw std::runtime_error("cannot write " + path);
    return;
  }
  if (o.nproc < 2) throw UserError(fmt::format("--nproc must be at least 2, got {}", o.nproc));
  const std::string report = (std::filesystem::temp_directory_path() /
                              fmt::format("omnirm-bench-memory-{}.json", ::getpid()))
                                 .string();
  dist::LaunchOptions launch;
  launch.nproc_per_node = o.nproc;
  launch.arguments = {"bench",     "memory",
                      "--steps",   std::to_string(o.steps),
                      "--nproc",   std::to_string(o.nproc),
                      "--threads", std::to_string(o.threads),
                      "--report",  report};
  if (!o.config.path.empty())
    launch.arguments.insert(launch.arguments.end(), {"-c", o.config.path});
  for (const std::string& assignment : o.config.overrides) {
    launch.arguments.insert(launch.arguments.end(), {"--set", assignment});
  }
  const int code = dist::launch_workers(launch);
  std::vector<train::BenchMemoryRanks> parts;
  for (int64_t rank = 0; rank < o.nproc; ++rank) {
    const std::string path = fmt::format("{}.rank-{}", report, rank);
    std::ifstream in(path);
    if (in) {
      std::stringstream text;
      text << in.rdbuf();
      parts.push_back(train::bench_memory_ranks_from_json(nlohmann::json::parse(text.str())));
    }
    std::filesystem::remove(path);
  }
  if (code != 0) throw CommandExit{code};
  fmt::print("{}", train::format_bench_memory_ranks(train::merge_rank_results(parts)));
}

void add_bench_memory(CLI::App& bench) {
  auto* memory = bench.add_subcommand(
      "memory",
      "Peak memory per step: fp32 vs bf16, activation checkpointing off vs on; with --nproc N, "
      "ZeRO stages 0-3 on N CPU ranks by category beside `omnirm plan`");
  auto options = std::make_shared<BenchMemoryOptions>();
  add_config_options(*memory, options->config);
  memory->add_option("--steps", options->steps, "Measured optimizer steps per setting or stage")
      ->capture_default_str();
  memory
      ->add_option("--nproc", options->nproc,
                   "Ranks (Gloo, this machine) to run every ZeRO stage on; 0: one process, the "
                   "precision and checkpointing settings")
      ->capture_default_str();
  memory->add_option("--threads", options->threads, "CPU threads per rank (with --nproc)")
      ->capture_default_str();
  memory->add_option("--report", options->report,
                     "As a rank: write this rank's figures as JSON to REPORT.rank-R");
  memory->callback([options] {
    const Config config = load_config(options->config.path, options->config.overrides);
    if (options->nproc > 0 || dist::world_from_environment().distributed()) {
      run_memory_ranks(*options, config);
      return;
    }
    const train::BenchMemoryResult result = train::bench_memory(config, options->steps);
    fmt::print("bench memory: {} steps x {} pairs per setting, {} threads, CPU allocator bytes\n",
               options->steps, config.train.global_batch_pairs, at::get_num_threads());
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
