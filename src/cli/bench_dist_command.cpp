// `omnirm bench dist`: step time of several CPU ranks against one on the same global batch,
// and the share of the gradient all-reduce hidden behind backward. Run plainly, it measures
// one rank itself, then starts the ranks through the launcher with --report and reads their
// figures back; run as a rank (torchrun's variables set), it measures and rank 0 reports.
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
#include "omnirm/train/bench_dist.h"

namespace omnirm::cli {

namespace {

struct BenchDistOptions {
  ConfigOptions config;
  int64_t steps = 10;
  int64_t warmup = 2;
  int64_t nproc = 2;
  int64_t threads = 1;
  std::string report;  // set by the coordinating process for its ranks
};

// The ranks' command line: the same benchmark, reporting into `report`.
std::vector<std::string> rank_arguments(const BenchDistOptions& o, const std::string& report) {
  std::vector<std::string> args = {"bench",     "dist",
                                   "--steps",   std::to_string(o.steps),
                                   "--warmup",  std::to_string(o.warmup),
                                   "--threads", std::to_string(o.threads),
                                   "--report",  report};
  if (!o.config.path.empty()) args.insert(args.end(), {"-c", o.config.path});
  for (const std::string& assignment : o.config.overrides) {
    args.insert(args.end(), {"--set", assignment});
  }
  return args;
}

void run_as_rank(const BenchDistOptions& o, const Config& config) {
  at::set_num_threads(static_cast<int>(o.threads));
  const train::BenchDistResult result = train::bench_parallel_ranks(config, o.steps, o.warmup);
  if (dist::world_from_environment().rank != 0) return;
  if (o.report.empty()) {
    fmt::print("{}", train::format_bench_dist(result));
    return;
  }
  std::ofstream out(o.report);
  out << to_json(result).dump(2) << "\n";
  if (!out) throw std::runtime_error("cannot write " + o.report);
}

void run_as_coordinator(const BenchDistOptions& o, const Config& config) {
  if (o.nproc < 2) throw UserError(fmt::format("--nproc must be at least 2, got {}", o.nproc));
  // One rank gets the cores all the ranks share.
  at::set_num_threads(static_cast<int>(o.threads * o.nproc));
  const train::StepTiming single = train::bench_single_rank(config, o.steps, o.warmup);

  const std::string report = (std::filesystem::temp_directory_path() /
                              fmt::format("omnirm-bench-dist-{}.json", ::getpid()))
                                 .string();
  dist::LaunchOptions launch;
  launch.nproc_per_node = o.nproc;
  launch.arguments = rank_arguments(o, report);
  const int code = dist::launch_workers(launch);
  if (code != 0) throw CommandExit{code};
  std::ifstream in(report);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(report);
  train::BenchDistResult result = train::bench_dist_from_json(nlohmann::json::parse(text.str()));
  result.single = single;
  fmt::print("{}", train::format_bench_dist(result));
}

}  // namespace

void add_bench_dist_command(CLI::App& bench) {
  auto* command = bench.add_subcommand(
      "dist", "Step time of N CPU ranks vs 1, and the all-reduce share hidden behind backward");
  auto options = std::make_shared<BenchDistOptions>();
  add_config_options(*command, options->config);
  command->add_option("--steps", options->steps, "Timed steps (and backward repetitions)")
      ->capture_default_str();
  command->add_option("--warmup", options->warmup, "Untimed steps first")->capture_default_str();
  command->add_option("--nproc", options->nproc, "Ranks to compare with one")
      ->capture_default_str();
  command->add_option("--threads", options->threads, "CPU threads per rank (one rank gets N x)")
      ->capture_default_str();
  command->add_option("--report", options->report,
                      "As a rank: write rank 0's figures as JSON here instead of printing");
  command->callback([options] {
    const Config config = load_config(options->config.path, options->config.overrides);
    if (options->threads < 1) {
      throw UserError(fmt::format("--threads must be at least 1, got {}", options->threads));
    }
    if (dist::world_from_environment().distributed()) {
      run_as_rank(*options, config);
    } else {
      run_as_coordinator(*options, config);
    }
  });
}

}  // namespace omnirm::cli
